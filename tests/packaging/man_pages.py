#!/usr/bin/env python3
"""man_pages.py BUILD_DIR: the man pages say what the code does.

dunetrace(1) and dunestat(1) are made by help2man from the tools' --help: each built page must
name every option --help lists, and each tool must answer --version. libdune_preload(7) must
describe every DUNE_* variable the shim's DUNE_HELP lists, and nothing else; libdune(3) every
function dune.h, trace.h and bench.h declare. The bash completions must parse."""
import gzip
import os
import re
import subprocess
import sys

build = sys.argv[1]
root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
failures = []


def check(ok, what):
    print(f"man_pages: {what:<80} {'ok' if ok else 'FAIL'}")
    if not ok:
        failures.append(what)


def run(cmd, **kw):
    return subprocess.run(cmd, capture_output=True, text=True, **kw)


for tool in ("dunetrace", "dunestat"):
    exe = os.path.join(build, "tools", tool, tool)
    helptext = run([exe, "--help"]).stdout
    options = set(re.findall(r"(?<![\w-])--[a-z][a-z-]+", helptext))
    page_path = os.path.join(build, "packaging", "man", f"{tool}.1.gz")
    check(os.path.exists(page_path), f"{tool}.1 was built")
    if os.path.exists(page_path):
        page = gzip.open(page_path, "rt").read().replace("\\-", "-")
        missing = sorted(o for o in options if o not in page)
        check(not missing, f"{tool}.1 names every option of --help {missing or ''}")
    version = run([exe, "--version"])
    check(version.returncode == 0 and re.search(r"\d+\.\d+\.\d+", version.stdout) is not None,
          f"{tool} --version")

shim = os.path.join(build, "preload", "libdune_preload.so")
env = dict(os.environ, DUNE_HELP="1", LD_PRELOAD=shim)
helptext = run(["/bin/true"], env=env).stderr + run(["/bin/true"], env=env).stdout
knobs = set(re.findall(r"^\s+(DUNE_[A-Z_]+)", helptext, re.M))
check(len(knobs) >= 10, f"DUNE_HELP lists the shim's variables ({len(knobs)})")
scd = open(os.path.join(root, "docs", "man", "libdune_preload.7.scd")).read()
described = set(re.findall(r"^\*(DUNE_[A-Z_]+)", scd, re.M))
check(knobs <= described, f"libdune_preload.7 describes every variable {sorted(knobs - described) or ''}")
check(described <= knobs, f"libdune_preload.7 describes no variable DUNE_HELP lacks {sorted(described - knobs) or ''}")

api = set()
for h in ("dune.h", "trace.h", "bench.h"):
    text = open(os.path.join(root, "libdune", "include", "dune", h)).read()
    api |= set(re.findall(r"DUNE_API[^;(]*?\b(dune_[a-z0-9_]+)\s*\(", text))
scd = open(os.path.join(root, "docs", "man", "libdune.3.scd")).read()
check(len(api) >= 30, f"dune.h, trace.h and bench.h declare the API ({len(api)} functions)")
undocumented = sorted(f for f in api if f not in scd)
check(not undocumented, f"libdune.3 names every function {undocumented or ''}")

for c in ("dunetrace", "dunestat"):
    r = run(["bash", "-n", os.path.join(root, "packaging", "bash-completion", c)])
    check(r.returncode == 0, f"the bash completion of {c} parses")

sys.exit(1 if failures else 0)
