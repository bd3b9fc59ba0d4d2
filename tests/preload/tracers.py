#!/usr/bin/env python3
"""The shim under a ptrace tracer (gdb, strace started with it preloaded): one line says the
program runs natively, and the tracer works as without the shim: gdb's breakpoint is hit, the
backtrace names the program's frames, the exit status is the program's. DUNE_STRICT=1 enters
Dune mode anyway. gdb attaching later to a program in Dune mode: its breakpoint is named on the
program's stderr.

Exit status: 0 pass, 1 fail, 77 skip (no usable /dev/kvm, or no gdb/strace, unless
DUNE_REQUIRE_KVM=1).
"""
import argparse
import os
import shutil
import subprocess
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "support"))
import skipping  # noqa: E402

failures = []


def check(cond, what, detail=""):
    print(f"tracers: {'ok' if cond else 'FAIL'}: {what}")
    if not cond:
        failures.append(what)
        if detail:
            print("    " + detail.replace("\n", "\n    ")[:3000])


def run(cmd, **env):
    full = {"PATH": "/usr/bin:/bin", "LANG": "C", "HOME": os.environ.get("HOME", "/root")}
    full.update(env)
    p = subprocess.run(cmd, env=full, capture_output=True, text=True, timeout=300)
    return p.returncode, p.stdout, p.stderr


def skip(why):
    return skipping.skip("tracers", why)


def attach_later(shim, prog):
    """gdb attaching to a program already in Dune mode: its breakpoint traps in the guest and reaches
    the library, which says so on the program's stderr before the SIGTRAP Linux gives."""
    env = {"PATH": "/usr/bin:/bin", "LANG": "C", "LD_PRELOAD": shim}
    p = subprocess.Popen([prog, "wait"], env=env, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE, text=True)
    gdb = None
    try:
        check(p.stdout.readline() == "debuggee: ready\n", "attach: the program runs in Dune mode, waiting")
        gdb = subprocess.Popen(["gdb", "-nx", "-batch", "-p", str(p.pid), "-ex", "break work", "-ex", "continue"],
                               env={"PATH": "/usr/bin:/bin", "LANG": "C"}, stdin=subprocess.DEVNULL,
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        # The program stays stopped from the attach until gdb's continue, which puts the
        # breakpoint in first: once gdb has set it, the line may go.
        seen = []
        for line in gdb.stdout:
            seen.append(line)
            if line.startswith("Breakpoint 1 at"):
                break
        check(any(l.startswith("Breakpoint 1 at") for l in seen), "attach: gdb attached and set the breakpoint",
              "".join(seen))
        p.stdin.write("go\n")
        p.stdin.flush()
        rest, _ = gdb.communicate(timeout=120)
        _, err = p.communicate(timeout=120)
        check("is tracing this process, which runs in Dune mode: its breakpoint" in err,
              "attach: the program's stderr names the debugger's breakpoint", err + "".join(seen) + rest)
        # The debugger takes the library's SIGTRAP and drops it at detach: the library then ends
        # the process with the status a shell shows for that death (128 + 5).
        check(p.returncode in (-5, 133), "attach: then the end of a trap nobody handles (SIGTRAP, or 133)",
              f"status {p.returncode}")
    finally:
        for proc in (gdb, p):
            if proc and proc.poll() is None:
                proc.kill()
                proc.wait()


def main():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--shim", required=True)
    ap.add_argument("--program", required=True, help="the debuggee (tests/preload/programs/debuggee.c)")
    args = ap.parse_args()
    shim, prog = os.path.abspath(args.shim), os.path.abspath(args.program)
    try:
        os.close(os.open("/dev/kvm", os.O_RDWR))
    except OSError as e:
        return skip(f"/dev/kvm is not usable ({e})")
    for tool in ("gdb", "strace"):
        if not shutil.which(tool, path="/usr/bin:/bin"):
            return skip(f"{tool} is not installed (scripts/install-deps.sh installs it)")

    status, out, _ = run([prog])
    check(status == 15 and out == "debuggee: work(5) = 15\n", "natively: the program's output and status 15")
    want_out = out

    # gdb, as a new user would run it (no shell in between: one process to trace).
    gdb = ["gdb", "-nx", "-batch", "-ex", "set startup-with-shell off",
           "-ex", f"set environment LD_PRELOAD={shim}", "-ex", "break work", "-ex", "run", "-ex", "bt",
           "-ex", "continue", prog]
    status, out, err = run(gdb)
    both = out + err
    check(status == 0, "gdb -batch ends normally", both)
    check("Breakpoint 1, work" in out, "gdb: the breakpoint in work is hit", both)
    check("in main ()" in out or " main (" in out, "gdb: bt names main, the caller", both)
    check(want_out in out, "gdb: the program's output", both)
    check("exited with code 017" in out, "gdb: the program's exit status (15)", both)
    check("dune: traced by gdb" in err and "running natively" in err, "gdb: one line says it runs natively", both)
    check(err.count("dune: traced by") == 1, "gdb: that line once", both)

    status, out, err = run(gdb[:3] + ["-ex", "set environment DUNE_DISABLE=1"] + gdb[3:])
    check("Breakpoint 1, work" in out and "dune:" not in err, "gdb with DUNE_DISABLE=1: no line", out + err)

    # strace, the shim given to the traced program only (-E), not to strace.
    status, out, err = run(["strace", "-f", "-o", "/dev/null", "-E", f"LD_PRELOAD={shim}", prog])
    check(status == 15 and out == want_out, "strace: the program's output and status", out + err)
    check("dune: traced by strace" in err, "strace: one line says it runs natively", err)

    status, out, err = run(["strace", "-f", "-o", "/dev/null", "-E", f"LD_PRELOAD={shim}", "-E", "DUNE_STRICT=1",
                            "-E", "DUNE_LOG=info", prog])
    check(status == 15 and out == want_out, "strace, DUNE_STRICT=1: the program's output and status", out + err)
    check("VM ready" in err and "traced by" not in err, "strace, DUNE_STRICT=1: Dune mode anyway", err)

    attach_later(shim, prog)

    if failures:
        print(f"tracers: {len(failures)} failed")
        return 1
    print("tracers: ok")
    return 0


if __name__ == "__main__":
    sys.exit(main())
