#!/usr/bin/env python3
"""What tracing adds to a syscall: dunetrace against strace, -c against the shim.

Runs bench/syscall_heavy (N timed getppid calls) in five ways, interleaved for
R rounds in one run so that every ratio compares numbers taken side by side:
natively, under strace, under the preload shim alone, under `dunetrace -e
syscall`, and under `dunetrace -c`. Each run reports its median cycles per
getppid; the figure per way is the median over the rounds.

  bench/dunetrace_overhead.py [--build build] [--rounds 5] [--calls 20000]

Prints the machine, the table, and the two verdicts docs/dunetrace.md quotes:
dunetrace's per-syscall overhead against strace's (it must be smaller), and
-c's overhead over the shim alone (it must be under 10 %).
"""
import argparse
import os
import platform
import re
import shutil
import statistics
import subprocess
import sys
import tempfile


def machine():
    model = "unknown CPU"
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    model = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    flavour = "PVM" if os.path.exists("/sys/module/kvm_pvm") else "hardware KVM" if os.path.exists("/dev/kvm") else "no KVM"
    return f"{model}, {os.cpu_count()} CPUs, Linux {platform.release()}, /dev/kvm: {flavour}"


def run_once(cmd, env=None):
    p = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=600)
    m = re.search(r"median=(\d+) mean=(\d+)", p.stdout)
    if p.returncode != 0 or not m:
        sys.exit(f"dunetrace_overhead: {' '.join(cmd)} failed ({p.returncode}):\n{p.stdout}\n{p.stderr[-2000:]}")
    return int(m.group(1)), int(m.group(2))


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--build", default="build")
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--calls", type=int, default=20000)
    args = ap.parse_args()
    b = os.path.abspath(args.build)
    prog = f"{b}/bench/syscall_heavy"
    shim = f"{b}/preload/libdune_preload.so"
    dunetrace = f"{b}/tools/dunetrace/dunetrace"
    strace = shutil.which("strace")
    for f in (prog, shim, dunetrace):
        if not os.path.exists(f):
            sys.exit(f"dunetrace_overhead: {f} is missing: build first")
    if not strace:
        sys.exit("dunetrace_overhead: strace is not installed (scripts/install-deps.sh)")
    work = tempfile.mkdtemp(prefix="dunetrace-bench.")
    n = str(args.calls)
    shim_env = dict(os.environ, LD_PRELOAD=shim, DUNE_STRICT="1")
    ways = {
        "native": ([prog, n], None),
        "strace": ([strace, "-o", f"{work}/strace.txt", prog, n], None),
        "shim alone": ([prog, n], shim_env),
        "dunetrace -e syscall": ([dunetrace, "-e", "syscall", "-o", f"{work}/dt.txt", prog, n], None),
        "dunetrace -c": ([dunetrace, "-c", "-o", f"{work}/dtc.txt", prog, n], None),
    }
    results = {w: [] for w in ways}
    for _ in range(args.rounds):
        for w, (cmd, env) in ways.items():
            results[w].append(run_once(cmd, env))
    shutil.rmtree(work)

    med = {w: statistics.median(m for m, _ in r) for w, r in results.items()}
    print(f"machine: {machine()}")
    print(f"{args.rounds} rounds of {args.calls} getppid calls per way, interleaved; cycles per call")
    print(f"{'way':<22} {'median':>10} {'mean':>10}   per-round medians")
    for w, r in results.items():
        mean = statistics.median(m for _, m in r)
        print(f"{w:<22} {med[w]:>10.0f} {mean:>10.0f}   {' '.join(str(m) for m, _ in r)}")
    strace_over = med["strace"] - med["native"]
    dt_over = med["dunetrace -e syscall"] - med["shim alone"]
    c_over = (med["dunetrace -c"] - med["shim alone"]) / med["shim alone"]
    print(f"per-syscall overhead: strace {strace_over:.0f} cycles (over native), "
          f"dunetrace -e syscall {dt_over:.0f} cycles (over the shim): "
          f"{'dunetrace is cheaper' if dt_over < strace_over else 'dunetrace is NOT cheaper'} "
          f"({dt_over / strace_over:.3f} of strace's)")
    print(f"dunetrace -c over the shim alone: {100 * c_over:+.1f} % "
          f"({'within' if c_over <= 0.10 else 'NOT within'} 10 %)")
    return 0 if dt_over < strace_over and c_over <= 0.10 else 1


if __name__ == "__main__":
    sys.exit(main())
