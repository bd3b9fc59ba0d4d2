#!/usr/bin/env python3
"""readme_commands.py SOURCE_DIR BUILD_DIR: runs every command of the README's sh code blocks.

Each must exit 0 (a command under the shim runs natively where Dune mode cannot be entered, and
says so). Not run here, with the reason printed: scripts/setup.sh and scripts/test.sh, which build
the tree this test runs from (.ci/run runs scripts/test.sh itself). `build/` in a command is the
build directory given."""
import os
import re
import subprocess
import sys

source, build = sys.argv[1], os.path.abspath(sys.argv[2])
readme = open(os.path.join(source, "README.md")).read()
blocks = re.findall(r"^```sh\n(.*?)^```", readme, re.S | re.M)
not_here = {
    "scripts/setup.sh": "it builds the tree the tests run from (run by hand before a change lands)",
    "scripts/test.sh": "it is what .ci/run runs",
}
failures, ran = [], 0
for block in blocks:
    for line in block.splitlines():
        cmd = re.sub(r"\s+#.*$", "", line).strip()
        if not cmd or cmd.startswith("#"):
            continue
        word = cmd.split()[0]
        if word in not_here:
            print(f"readme_commands: not run here: {cmd}: {not_here[word]}")
            continue
        cmd = re.sub(r"(?<![\w/.])build/", build + "/", cmd)
        r = subprocess.run(["bash", "-c", cmd], cwd=source, capture_output=True, text=True, timeout=300)
        ran += 1
        ok = r.returncode == 0
        print(f"readme_commands: {'ok  ' if ok else 'FAIL'} (status {r.returncode}) {line.strip()}")
        if not ok:
            print(r.stdout[-2000:], r.stderr[-2000:], sep="\n")
            failures.append(cmd)
if ran == 0:
    print("readme_commands: FAIL: the README has no command to run")
    sys.exit(1)
sys.exit(1 if failures else 0)
