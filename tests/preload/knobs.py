#!/usr/bin/env python3
"""The shim's environment knobs, each checked for what docs/preload.md promises.

Exit status: 0 pass, 1 fail, 77 skip (no usable /dev/kvm, unless DUNE_REQUIRE_KVM=1).
"""
import argparse
import json
import os
import subprocess
import sys
import tempfile

failures = []


def check(cond, what):
    print(f"knobs: {'ok' if cond else 'FAIL'}: {what}")
    if not cond:
        failures.append(what)


def run(shim, cmd, **env):
    full = {"PATH": "/usr/bin:/bin", "LANG": "C", "LD_PRELOAD": shim}
    full.update(env)
    p = subprocess.run(cmd, env=full, capture_output=True, text=True, timeout=120)
    return p.returncode, p.stdout, p.stderr


def main():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--shim", required=True)
    shim = os.path.abspath(ap.parse_args().shim)
    try:
        os.close(os.open("/dev/kvm", os.O_RDWR))
    except OSError as e:
        if os.environ.get("DUNE_REQUIRE_KVM") == "1":
            print(f"knobs: FAIL: /dev/kvm is not usable ({e}) and DUNE_REQUIRE_KVM=1")
            return 1
        print(f"knobs: SKIP: /dev/kvm is not usable ({e})")
        return 77
    hello = ["sh", "-c", "echo out; echo err >&2; exit 3"]

    # No knob: Dune mode, no output of the shim's own.
    rc, out, err = run(shim, hello)
    check((rc, out, err) == (3, "out\n", "err\n"), "no knob: the program's output only")

    with tempfile.TemporaryDirectory(prefix="dune-knobs-") as d:
        stats = os.path.join(d, "s.%p.json")
        # DUNE_STATS: one JSON line per process with the documented fields.
        rc, out, _ = run(shim, ["sh", "-c", "echo a | cat; kill -TERM $$"], DUNE_STATS=stats)
        lines = []
        for f in sorted(os.listdir(d)):
            with open(os.path.join(d, f)) as fh:
                lines += [json.loads(l) for l in fh if l.strip()]
            os.unlink(os.path.join(d, f))
        check(len(lines) >= 2, f"DUNE_STATS: a report per process ({len(lines)})")
        fields = {"pid", "exe", "end", "status", "vm_exits", "exits", "syscalls_by_name", "faults",
                  "signals_delivered", "guest_seconds", "host_seconds"}
        check(all(fields <= set(r) for r in lines), "DUNE_STATS: every report has " + ", ".join(sorted(fields)))
        check(all(sum(r["exits"].values()) == r["vm_exits"] for r in lines),
              "DUNE_STATS: exits by reason add up to vm_exits (the last one, exit_group, included)")
        killed = [r for r in lines if r["exe"].endswith("sh") and r["end"] == "signal"]
        check(len(killed) == 1 and killed[0]["status"] == 15, "DUNE_STATS: the shell's report says it died of SIGTERM")

        # A failed exec (a PATH search) is no end of the process: one report per image.
        run(shim, ["env", "PATH=/nonexistent/a:/nonexistent/b:/usr/bin:/bin", "true"], DUNE_STATS=stats)
        ends = []
        for f in sorted(os.listdir(d)):
            with open(os.path.join(d, f)) as fh:
                ends += [json.loads(l)["end"] for l in fh if l.strip()]
            os.unlink(os.path.join(d, f))
        check(ends == ["exec", "exit"], f"DUNE_STATS: failed execs make no report ({ends})")

        # DUNE_DISABLE=1: native, so no report.
        rc, out, err = run(shim, hello, DUNE_DISABLE="1", DUNE_STATS=stats)
        check((rc, out, err) == (3, "out\n", "err\n") and not os.listdir(d), "DUNE_DISABLE=1: native, no report")

        # DUNE_LOG=info to DUNE_LOG_FILE: the log in the file, the program's stderr untouched.
        log = os.path.join(d, "log.txt")
        rc, out, err = run(shim, hello, DUNE_LOG="info", DUNE_LOG_FILE=log)
        text = open(log).read() if os.path.exists(log) else ""
        check((rc, out, err) == (3, "out\n", "err\n") and "dune" in text, "DUNE_LOG=info with DUNE_LOG_FILE: log in the file")

    # Strict and not strict when Dune mode cannot be entered.
    rc, out, err = run(shim, hello, DUNE_KVM_DEVICE="/nonexistent/kvm")
    check(rc == 3 and out == "out\n" and err.count("\n") == 2 and "cannot enter Dune mode" in err,
          "no KVM: one line, then the program runs natively")
    rc, out, err = run(shim, hello, DUNE_KVM_DEVICE="/nonexistent/kvm", DUNE_STRICT="1")
    check(rc == 127 and out == "" and "DUNE_STRICT=1" in err, "no KVM and DUNE_STRICT=1: status 127, program not run")

    # DUNE_BACKEND: kvm is /dev/kvm; module without /dev/dune says so (strict: 127, else native).
    rc, out, err = run(shim, hello, DUNE_BACKEND="kvm", DUNE_STRICT="1")
    check((rc, out, err) == (3, "out\n", "err\n"), "DUNE_BACKEND=kvm: Dune mode on /dev/kvm")
    if not os.path.exists("/dev/dune"):
        rc, out, err = run(shim, hello, DUNE_BACKEND="module")
        check(rc == 3 and out == "out\n" and "/dev/dune does not exist" in err and err.count("\n") == 2,
              "DUNE_BACKEND=module without /dev/dune: one line, then native")
        rc, out, err = run(shim, hello, DUNE_BACKEND="module", DUNE_STRICT="1")
        check(rc == 127 and out == "", "DUNE_BACKEND=module without /dev/dune and DUNE_STRICT=1: status 127")

    # DUNE_MODULE_DEVICE: where the module's device is. Missing or not the module: forced, one line
    # naming it (strict: 127); auto, /dev/kvm without a word, DUNE_LOG=info saying which and why.
    missing = "/nonexistent/dune"
    rc, out, err = run(shim, hello, DUNE_BACKEND="module", DUNE_MODULE_DEVICE=missing)
    check(rc == 3 and out == "out\n" and f"{missing} does not exist" in err and err.count("\n") == 2,
          "DUNE_MODULE_DEVICE missing, DUNE_BACKEND=module: one line naming it, then native")
    rc, out, err = run(shim, hello, DUNE_BACKEND="module", DUNE_MODULE_DEVICE=missing, DUNE_STRICT="1")
    check(rc == 127 and out == "" and missing in err, "DUNE_MODULE_DEVICE missing, DUNE_BACKEND=module, DUNE_STRICT=1: status 127")
    with tempfile.NamedTemporaryFile(prefix="dune-not-a-module-") as f:
        rc, out, err = run(shim, hello, DUNE_BACKEND="module", DUNE_MODULE_DEVICE=f.name)
        check(rc == 3 and out == "out\n" and f"{f.name} is not the Dune kernel module's device" in err
              and err.count("\n") == 2, "DUNE_MODULE_DEVICE not the module, DUNE_BACKEND=module: one line saying so, then native")
        rc, out, err = run(shim, hello, DUNE_MODULE_DEVICE=f.name, DUNE_STRICT="1")
        check((rc, out, err) == (3, "out\n", "err\n"), "DUNE_MODULE_DEVICE not the module, auto: Dune mode on /dev/kvm, no word")
        rc, out, err = run(shim, hello, DUNE_MODULE_DEVICE=f.name, DUNE_LOG="info", DUNE_STRICT="1")
        check(rc == 3 and out == "out\n" and f"backend: /dev/kvm ({f.name} is not the Dune kernel module's device" in err
              and "flavour dune-module" not in err, "DUNE_MODULE_DEVICE not the module, auto, DUNE_LOG=info: says /dev/kvm and why")

    # A bad value: one warning naming the knob, the default used, the program unharmed.
    for knob, value in [("DUNE_STRICT", "yes"), ("DUNE_DISABLE", "2"), ("DUNE_LOG", "loud"),
                        ("DUNE_MEM_BUDGET", "lots"), ("DUNE_STATS", "/nonexistent/dir/s.json"),
                        ("DUNE_LOG_FILE", "/nonexistent/dir/log"), ("DUNE_BACKEND", "dune"),
                        ("DUNE_MODULE_FASTPATH", "fast")]:
        rc, out, err = run(shim, hello, **{knob: value})
        warning = err.replace("err\n", "", 1)
        check(rc == 3 and out == "out\n" and warning.count("\n") == 1 and knob in warning,
              f"{knob}={value}: one warning naming it ({warning.strip()!r})")

    # DUNE_HELP=1: the knobs, status 0, the program not run.
    rc, out, err = run(shim, hello, DUNE_HELP="1")
    check(rc == 0 and out == ""
          and all(k in err for k in ("DUNE_DISABLE", "DUNE_STRICT", "DUNE_STATS", "DUNE_MODULE_DEVICE",
                                     "DUNE_MODULE_FASTPATH")),
          "DUNE_HELP=1: the knobs on stderr, status 0")

    print("knobs: FAIL: " + "; ".join(failures) if failures else "knobs: ok")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
