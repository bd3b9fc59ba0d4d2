#!/usr/bin/env python3
"""preload_suite: what the shim costs real programs, measured side by side in one run.

Start-up: `true` natively and under libdune_preload.so, interleaved, median of
--startup-runs (20). Then each program of the preload comparison suite
(tests/preload/compare.py): the median wall time of --runs runs natively and
under the shim (interleaved), their ratio, and the VM exits the shim's runs took
(from DUNE_STATS). Nothing is asserted: this is a measurement.
"""
import argparse
import glob
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "tests", "preload"))
import compare  # noqa: E402  (the suite's cases and inputs)

# Programs whose time is spent computing, with few syscalls: the 5 % class.
# (sha256sum and sort move their data in 32 KiB reads and writes, each a VM exit.)
CPU_BOUND = {"python3_compute", "gzip9"}


def timed(cmd, env, cwd):
    t = time.perf_counter()
    p = subprocess.run(cmd, env=env, cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return time.perf_counter() - t, p.returncode


def cpu_model():
    with open("/proc/cpuinfo") as f:
        for line in f:
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    return "unknown CPU"


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--shim", required=True)
    ap.add_argument("--programs", required=True, help="tests/preload/bin of the build")
    ap.add_argument("--data", required=True, help="directory for the generated inputs (kept)")
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--startup-runs", type=int, default=20)
    ap.add_argument("--case", action="append", help="suite programs to time (default: all but the crash ones)")
    args = ap.parse_args()
    if args.runs < 1 or args.startup_runs < 1:
        ap.error("--runs and --startup-runs must be at least 1")
    args.shim, args.programs, args.data = (os.path.abspath(x) for x in (args.shim, args.programs, args.data))
    compare.make_data(args.data)
    base = {"PATH": "/usr/local/bin:/usr/bin:/bin", "LANG": "C", "LC_ALL": "C", "TZ": "UTC"}
    print(f"machine: {cpu_model()}, {os.cpu_count()} CPUs, Linux {platform.release()}")

    with tempfile.TemporaryDirectory(prefix="dune-bench-") as work:
        base["HOME"] = work
        shim = dict(base, LD_PRELOAD=args.shim, DUNE_STRICT="1")
        native_t, shim_t = [], []
        for _ in range(args.startup_runs):
            native_t.append(timed(["true"], base, work)[0])
            shim_t.append(timed(["true"], shim, work)[0])
        n, s = statistics.median(native_t), statistics.median(shim_t)
        print(f"start-up of `true` (median of {args.startup_runs}): native {n * 1e3:.2f} ms, "
              f"shim {s * 1e3:.2f} ms, +{(s - n) * 1e3:.2f} ms to enter Dune mode ({s / n:.1f}x)")
        print()

        cases = compare.cases(args, args.data, work)
        names = args.case or [c for c, v in cases.items()
                              if v.get("preloaded", True) and not c.startswith("crash") and "user" not in v]
        print(f"{'program':<14} {'native s':>9} {'shim s':>9} {'ratio':>7} {'VM exits':>9} {'procs':>6}  class")
        for name in names:
            case = cases[name]
            stats_dir = os.path.join(work, "stats")
            nt, st, exits, procs = [], [], 0, 0
            for i in range(args.runs):
                nt.append(timed(case["cmd"], base, work)[0])
                for f in glob.glob(os.path.join(stats_dir, "*")):
                    os.unlink(f)
                os.makedirs(stats_dir, exist_ok=True)
                env = dict(shim, DUNE_STATS=os.path.join(stats_dir, "s.%p.json"))
                st.append(timed(case["cmd"], env, work)[0])
                if i == 0:
                    reports = []
                    for path in glob.glob(os.path.join(stats_dir, "*.json")):
                        with open(path) as fh:
                            reports += [json.loads(l) for l in fh if l.strip()]
                    exits, procs = sum(r["vm_exits"] for r in reports), len(reports)
            n, s = statistics.median(nt), statistics.median(st)
            kind = "cpu-bound" if name in CPU_BOUND else "syscalls/processes"
            print(f"{name:<14} {n:>9.3f} {s:>9.3f} {s / n:>7.3f} {exits:>9} {procs:>6}  {kind}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
