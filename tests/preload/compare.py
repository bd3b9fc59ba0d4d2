#!/usr/bin/env python3
"""Runs a real program natively and under libdune_preload.so and compares them.

stdout, stderr and the exit status must be the same byte for byte. Under the
shim DUNE_STRICT=1 (nothing may silently run natively) and DUNE_STATS writes a
report per process, which must show VM exits. Exit status: 0 pass, 1 fail,
77 skip (no usable /dev/kvm, unless DUNE_REQUIRE_KVM=1).
"""
import argparse
import glob
import json
import os
import random
import shutil
import subprocess
import sys
import tempfile

PY_THREADS = r"""
import hashlib, queue, subprocess, threading
q = queue.Queue()
def work(n):
    q.put(sum(i * i for i in range(n)))
ts = [threading.Thread(target=work, args=(20000 * k,)) for k in range(1, 5)]
for t in ts: t.start()
for t in ts: t.join()
print(sorted(q.get() for _ in ts))
print(subprocess.run(['echo', 'from a child'], capture_output=True, text=True).stdout.strip())
print(hashlib.sha256(b'dune' * 250000).hexdigest())
print(sum(i ** 3 for i in range(300000)) % 1000000007)
"""

SH_PIPELINES = r"""
set -e
echo start
x=$(printf '%s\n' c b a | sort | tr '\n' ' ')
echo "sorted: $x"
( cd / && echo "subshell in $(pwd)" )
seq 1 2000 | grep 7 | wc -l
sleep 0.1 & bg=$!
echo "background job started"
wait $bg && echo "background job done: $?"
for i in 1 2 3; do echo "loop $i"; done | tail -1
"""

BASH_PIPELINES = SH_PIPELINES + r"""
declare -A m=([a]=1 [b]=2)
echo "assoc: ${m[a]} ${m[b]}"
echo "process substitution: $(cat <(echo inner))"
coproc c { read l; echo "co:$l"; }; echo hi >&"${c[1]}"; read -r r <&"${c[0]}"; echo "$r"
"""


def cases(args, data, work):
    p = args.programs
    return {
        "ls": dict(cmd=["ls", "-la", "/usr/bin"]),
        "sort": dict(cmd=["sort", f"{data}/lines.txt"]),
        "sha256sum": dict(cmd=["sha256sum", f"{data}/big.bin"]),
        "cat_pipe": dict(cmd=["sh", "-c", f"cat {data}/lines.txt | cat | wc -c"]),
        "find": dict(cmd=["sh", "-c", "find /usr/include -name '*.h' | wc -l"]),
        "tar": dict(cmd=["sh", "-c",
                         f"rm -rf {work}/x && mkdir {work}/x && tar cf {work}/t.tar -C {data} tree && "
                         f"tar xf {work}/t.tar -C {work}/x && diff -r {data}/tree {work}/x/tree && "
                         f"tar tf {work}/t.tar | wc -l"]),
        "date": dict(cmd=["sh", "-c", "date -u -d @1700000000; date -u +%Y"]),
        "sh": dict(cmd=["sh", "-c", SH_PIPELINES]),
        "bash": dict(cmd=["bash", "-c", BASH_PIPELINES]),
        "python3": dict(cmd=["python3", "-c", PY_THREADS]),
        "grep_awk_sed": dict(cmd=["sh", "-c",
                                  "grep -r -c 'define' /usr/include/linux/kvm.h /usr/include/asm-generic | sort | tail -3; "
                                  f"awk '{{n += length($0)}} END {{print n}}' {data}/lines.txt; "
                                  f"sed -n 's/^\\([a-f]*\\)x.*/\\1/p' {data}/lines.txt | head -5"]),
        "gzip": dict(cmd=["sh", "-c",
                          f"gzip -c {data}/lines.txt > {work}/l.gz && gunzip -c {work}/l.gz | cmp - {data}/lines.txt && "
                          f"gzip -l {work}/l.gz | tail -1 | awk '{{print $2}}'"]),
        # CPU-bound: few syscalls for much computation (the benchmark's 5 % class).
        "python3_compute": dict(cmd=["python3", "-c", "print(sum(i * i % 7 for i in range(12_000_000)))"]),
        "gzip9": dict(cmd=["gzip", "-9", "-c", f"{data}/lines.txt"]),
        "cxx": dict(cmd=[f"{p}/cxx_features", f"{work}/cxx.dat"]),
        # Over before a timer signal is sure to come (storm_quiet).
        "crash_segv": dict(cmd=[f"{p}/crash", "segv"], storm_quiet=True),
        "crash_abort": dict(cmd=[f"{p}/crash", "abort"], storm_quiet=True),
        "fd_closer": dict(cmd=[f"{p}/fd_closer"]),
        # The last thread ends with SYS_exit: the process ends (KVM's worker task must not keep it).
        "raw_exit": dict(cmd=[f"{p}/raw_exit"], storm_quiet=True),
        "raw_exit_threads": dict(cmd=[f"{p}/raw_exit", "threads"], storm_quiet=True),
        "raw_exit_signal": dict(cmd=[f"{p}/raw_exit", "signal"], storm_quiet=True),
        "exit_statuses": dict(cmd=["sh", "-c", f"for i in $(seq 0 255); do {p}/crash $i >/dev/null; echo $?; done"]),
        # Static programs are not preloaded: the dynamic loader never runs.
        "static": dict(cmd=[f"{p}/hello_static"], preloaded=False),
        # The dynamic loader ignores LD_PRELOAD with a path for a setuid program
        # run by another user (secure mode): it runs natively, unharmed.
        "setuid": dict(cmd=[f"{work}/ids_setuid"], user=65534, preloaded=False,
                       prepare=lambda: make_setuid(f"{p}/ids", f"{work}/ids_setuid")),
    }


def make_setuid(src, dst):
    shutil.copy(src, dst)
    os.chown(dst, 0, 0)
    os.chmod(dst, 0o4755)


def make_data(data):
    os.makedirs(data, exist_ok=True)
    rnd = random.Random(1234)
    lines = os.path.join(data, "lines.txt")
    if not os.path.exists(lines):
        with open(lines + ".tmp", "w") as f:
            size = 0
            while size < 10 * 1024 * 1024:
                line = "".join(rnd.choice("abcdefx0123456789") for _ in range(rnd.randint(5, 60))) + "\n"
                f.write(line)
                size += len(line)
        os.rename(lines + ".tmp", lines)
    big = os.path.join(data, "big.bin")
    if not os.path.exists(big):
        block = bytes(rnd.getrandbits(8) for _ in range(1 << 20))
        with open(big + ".tmp", "wb") as f:
            for i in range(100):
                f.write(block[i:] + block[:i])
        os.rename(big + ".tmp", big)
    tree = os.path.join(data, "tree")
    if not os.path.exists(tree):
        for d in range(12):
            sub = os.path.join(tree + ".tmp", f"dir{d}", f"sub{d % 3}")
            os.makedirs(sub, exist_ok=True)
            for i in range(25):
                with open(os.path.join(sub, f"file{i}.txt"), "w") as f:
                    f.write(f"{d}:{i}\n" * (i * 17 + 1))
        os.rename(tree + ".tmp", tree)


def run(cmd, env, cwd, as_user=None):
    def drop():
        if as_user is not None:
            os.setgid(as_user)
            os.setuid(as_user)
    p = subprocess.run(cmd, env=env, cwd=cwd, capture_output=True, timeout=900, preexec_fn=drop)
    return p.returncode, p.stdout, p.stderr


def diff_text(a, b, what):
    la, lb = a.decode(errors="replace").splitlines(), b.decode(errors="replace").splitlines()
    for i in range(max(len(la), len(lb))):
        x = la[i] if i < len(la) else "<none>"
        y = lb[i] if i < len(lb) else "<none>"
        if x != y:
            return f"{what} differs at line {i + 1}:\n  native: {x!r}\n  shim:   {y!r}"
    return f"{what} differs"


def compare(name, case, args, data, work):
    base_env = {"PATH": "/usr/local/bin:/usr/bin:/bin", "LANG": "C", "LC_ALL": "C", "TZ": "UTC",
                "HOME": work}
    stats = os.path.join(work, "stats")
    shutil.rmtree(stats, ignore_errors=True)
    os.makedirs(stats)
    shim_env = dict(base_env, LD_PRELOAD=args.shim, DUNE_STRICT="1",
                    DUNE_STATS=os.path.join(stats, "stats.%p.json"))
    if args.storm:
        # A CPU-time timer signal firing throughout, in both runs alike.
        base_env["LD_PRELOAD"] = args.storm
        shim_env["LD_PRELOAD"] = f"{args.shim} {args.storm}"
    user = case.get("user")
    if "prepare" in case:
        case["prepare"]()
    native = run(case["cmd"], base_env, work, user)
    shim = run(case["cmd"], shim_env, work, user)
    problems = []
    if native[0] != shim[0]:
        problems.append(f"exit status: native {native[0]}, shim {shim[0]}")
    if native[1] != shim[1]:
        problems.append(diff_text(native[1], shim[1], "stdout"))
    if native[2] != shim[2]:
        problems.append(diff_text(native[2], shim[2], "stderr"))
    reports = []
    for path in glob.glob(os.path.join(stats, "stats.*.json")):
        with open(path) as f:
            reports += [json.loads(line) for line in f if line.strip()]
    if case.get("preloaded", True):
        if not reports:
            problems.append("no DUNE_STATS report: nothing ran in Dune mode")
        for r in reports:
            if r["vm_exits"] <= 0:
                problems.append(f"pid {r['pid']} ({r['exe']}) took no VM exits")
    elif reports:
        problems.append(f"{len(reports)} DUNE_STATS reports, none expected")
    exits = sum(r["vm_exits"] for r in reports)
    signals = sum(r.get("signals_delivered", 0) for r in reports)
    print(f"preload: {name}: status {native[0]}, {len(native[1])} bytes of stdout, "
          f"{len(reports)} processes in Dune mode, {exits} VM exits, {signals} signals delivered")
    if args.storm and case.get("preloaded", True) and not case.get("storm_quiet") and signals == 0:
        problems.append("no signal of the timer reached the program in Dune mode")
    for p in problems:
        print(f"preload: {name}: FAIL: {p}")
    return not problems


def kvm_usable():
    try:
        fd = os.open("/dev/kvm", os.O_RDWR)
        os.close(fd)
        return True
    except OSError as e:
        return e


def main():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--shim", required=True)
    ap.add_argument("--programs", required=True, help="directory of the test programs")
    ap.add_argument("--data", required=True, help="directory for generated inputs (kept)")
    ap.add_argument("--case", action="append", help="case to run (all if none)")
    ap.add_argument("--storm", help="a library to preload in both runs: a timer signal firing throughout "
                                    "(tests/support/sigstorm.c)")
    args = ap.parse_args()
    args.shim, args.programs, args.data = (os.path.abspath(x) for x in (args.shim, args.programs, args.data))
    if args.storm:
        args.storm = os.path.abspath(args.storm)
    ok = kvm_usable()
    if ok is not True:
        if os.environ.get("DUNE_REQUIRE_KVM") == "1":
            print(f"preload: FAIL: /dev/kvm is not usable ({ok}) and DUNE_REQUIRE_KVM=1")
            return 1
        print(f"preload: SKIP: /dev/kvm is not usable ({ok})")
        return 77
    make_data(args.data)
    with tempfile.TemporaryDirectory(prefix="dune-preload-") as work:
        os.chmod(work, 0o755)
        all_cases = cases(args, args.data, work)
        names = args.case or list(all_cases)
        failed = [n for n in names if not compare(n, all_cases[n], args, args.data, work)]
    print("preload: FAIL: " + ", ".join(failed) if failed else "preload: ok")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
