#!/usr/bin/env python3
"""dunetrace's syscall lines against strace's on the same programs.

Each program runs under `strace -ff -qq` and under the tracer being checked:
`--tracer native` runs tests/dunetrace's decode_native (ptrace + dunetrace's
decoders and capture plan: no VM needed); `--tracer dunetrace` runs
`dunetrace -f -e syscall` (Dune mode: needs /dev/kvm, else exit 77 unless
DUNE_REQUIRE_KVM=1). Lines are normalized only in pids, addresses, times and
spacing; the share of the tracer's lines that strace printed too must reach
--min (0.90). The lines that differ most often are listed."""
import argparse
import collections
import glob
import os
import re
import shutil
import subprocess
import sys
import tempfile

SKIP = 77


def cases(programs, data):
    runs = {
        "ls": ["ls", "-la", "/usr/include/linux/"],
        "cat": ["cat", "/etc/os-release"],
        "sort": ["sort", "-r", "/etc/services"],
        "sha256sum": ["sha256sum", "/etc/services"],
        "sh_pipeline": ["sh", "-c", "cat /etc/services | grep -c tcp | wc -l; echo $((6*7)) > /dev/null"],
        "sh_loop": ["sh", "-c", "for i in 1 2 3; do /bin/true; done; exit 3"],
        "find": ["find", "/usr/include/linux", "-maxdepth", "1", "-name", "*.h"],
        "date": ["date", "-u", "-d", "@1700000000"],
        "python3": ["python3", "-S", "-c", "import os,sys; print(sum(range(1000))); os.write(1, b'x\\n')"],
        "python3_spawn": ["python3", "-S", "-c",
                          "import subprocess; print(subprocess.run(['true']).returncode)"],
        "python3_net": ["python3", "-S", "-c",
                        "import socket,select,time; a,b=socket.socketpair(); a.send(b'ping');"
                        "select.select([b],[],[],1); print(b.recv(9)); s=socket.socket();"
                        "s.bind(('127.0.0.1',0)); s.listen(); time.sleep(0.01)"],
        "python3_epoll": ["python3", "-S", "-c",
                          "import select,os; r,w=os.pipe(); e=select.epoll(); "
                          "e.register(r, select.EPOLLIN|select.EPOLLET); os.write(w,b'x'); "
                          "print(e.poll(1)); e.unregister(r)"],
        "tar_gzip": ["sh", "-c", "tar -cf - /etc/os-release 2>/dev/null | gzip -c | gzip -dc | wc -c"],
        "getppid_loop": [os.path.join(programs, "getppid_loop")],
        "forks_threads": [os.path.join(programs, "forks_threads")],
        "signals": [os.path.join(programs, "signals"), "handled"],
        "net_io": [os.path.join(programs, "net_io")],
        "ipc_misc": [os.path.join(programs, "ipc_misc")],
    }
    # tests/preload's own programs, where they are built (next to ours).
    preload = os.path.normpath(os.path.join(programs, "..", "..", "preload", "bin"))
    if os.path.isdir(preload):
        runs.update({
            "cxx_features": [os.path.join(preload, "cxx_features"), os.path.join(tempfile.gettempdir(),
                                                                                   "dunetrace_cxx.dat")],
            "fd_closer": [os.path.join(preload, "fd_closer")],
            "raw_exit_threads": [os.path.join(preload, "raw_exit"), "threads"],
            "crash_abort": [os.path.join(preload, "crash"), "abort"],
        })
    return runs


HEX = re.compile(r"0x[0-9a-f]{6,}")
TIMES = re.compile(r"\b(tv_sec|tv_nsec|tv_usec|uptime|freeram|bufferram|sharedram|procs|loads|f_bfree|f_bavail|f_ffree)"
                   r"=(\[[^\]]*\]|\d+)")
SPACES = re.compile(r"\s+")
NUM = re.compile(r"(?<![\w.])\d+(?![\w.])")
RANDOM = re.compile(r'getrandom\("[^"]*"')


IPC_ID = re.compile(r"^((?:shm|sem|msg)(?:at|ctl|op|timedop|snd|rcv))\(\d+")
IPC_NEW = re.compile(r"^((?:shm|sem|msg)get\(.*\)\s+= )\d+$")


def normalize(line, pids):
    line = re.sub(r"^getppid\(\)\s+= \d+", "getppid() = PID", line)
    # The kernel's IPC ids and clock ticks differ from run to run.
    line = IPC_ID.sub(lambda m: m.group(1) + "(ID", line)
    line = IPC_NEW.sub(lambda m: m.group(1) + "ID", line)
    line = re.sub(r"^(times\(.*\)\s+= )\d+$", lambda m: m.group(1) + "T", line)
    line = HEX.sub("ADDR", line)
    line = TIMES.sub(lambda m: m.group(1) + "=T", line)
    line = RANDOM.sub('getrandom("R"', line)
    line = NUM.sub(lambda m: "PID" if m.group(0) in pids else m.group(0), line)
    return SPACES.sub(" ", line).strip()


def is_syscall_line(line):
    return bool(re.match(r"^[a-z_0-9]+\(", line))


def run_strace(cmd, work):
    prefix = os.path.join(work, "st")
    subprocess.run(["strace", "-ff", "-qq", "-s", "32", "-o", prefix] + cmd,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, timeout=300)
    lines, pids = [], set()
    for f in glob.glob(prefix + ".*"):
        pids.add(f.rsplit(".", 1)[1])
        with open(f, errors="replace") as fh:
            lines += [l.rstrip("\n") for l in fh if is_syscall_line(l)]
    return lines, pids


def run_native(tool, cmd, work):
    out = os.path.join(work, "native.txt")
    subprocess.run([tool, "-s", "32", "-o", out, "--"] + cmd,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, timeout=300)
    lines, pids = [], set()
    with open(out, errors="replace") as fh:
        for l in fh:
            tid, _, rest = l.rstrip("\n").partition(" ")
            pids.add(tid)
            if is_syscall_line(rest):
                lines.append(rest)
    return lines, pids


DT_PREFIX = re.compile(r"^\[pid (\d+) tid (\d+)\] (.*)$")


def run_dunetrace(tool, cmd, work):
    out = os.path.join(work, "dunetrace.txt")
    env = dict(os.environ, DUNE_STRICT="1")
    subprocess.run([tool, "-f", "-e", "syscall", "-o", out, "--"] + cmd, env=env,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, timeout=300)
    lines, pids = [], set()
    with open(out, errors="replace") as fh:
        for l in fh:
            m = DT_PREFIX.match(l.rstrip("\n"))
            if not m:
                continue
            pids.update([m.group(1), m.group(2)])
            if is_syscall_line(m.group(3)):
                lines.append(m.group(3))
    return lines, pids


def bed_runs(log):
    """The traces tests/hwbed/dunetrace_bed.sh printed: per case, strace's
    lines (@@ST CASE PID LINE) and dunetrace's (@@DT CASE LINE)."""
    runs = collections.OrderedDict()
    with open(log, errors="replace") as fh:
        for l in fh:
            l = l.rstrip("\n")
            m = re.match(r"^@@ST (\S+) (\d+) (.*)$", l)
            if m:
                r = runs.setdefault(m.group(1), ([], set(), [], set()))
                r[1].add(m.group(2))
                if is_syscall_line(m.group(3)):
                    r[0].append(m.group(3))
                continue
            m = re.match(r"^@@DT (\S+) (.*)$", l)
            if m and m.group(1) not in ("STATUS", "DONE"):
                r = runs.setdefault(m.group(1), ([], set(), [], set()))
                d = DT_PREFIX.match(m.group(2))
                if d:
                    r[3].update([d.group(1), d.group(2)])
                    if is_syscall_line(d.group(3)):
                        r[2].append(d.group(3))
    return runs


def main():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--tracer", choices=["native", "dunetrace", "bed-log"], required=True)
    ap.add_argument("--tool", required=True,
                    help="decode_native, dunetrace, or the console log of tests/hwbed/dunetrace_bed.sh")
    ap.add_argument("--programs", required=True, help="tests/dunetrace's built programs")
    ap.add_argument("--min", type=float, default=0.90)
    ap.add_argument("--show", type=int, default=25, help="unmatched lines to list")
    ap.add_argument("--case", action="append", help="only these cases")
    a = ap.parse_args()
    if not shutil.which("strace"):
        print("strace is not installed")
        return 1
    if a.tracer == "dunetrace" and not os.access("/dev/kvm", os.R_OK | os.W_OK):
        print("SKIP: no usable /dev/kvm")
        return 1 if os.environ.get("DUNE_REQUIRE_KVM") == "1" else SKIP
    total = matched = 0
    unmatched = collections.Counter()
    if a.tracer == "bed-log":
        runs = bed_runs(a.tool)
    else:
        runs = None
    for name, cmd in (runs if runs is not None else cases(a.programs, None)).items():
        if a.case and name not in a.case:
            continue
        with tempfile.TemporaryDirectory() as work:
            if runs is not None:
                ref, ref_pids, got, got_pids = cmd
            else:
                ref, ref_pids = run_strace(cmd, work)
            if runs is not None:
                pass
            elif a.tracer == "native":
                got, got_pids = run_native(a.tool, cmd, work)
            else:
                got, got_pids = run_dunetrace(a.tool, cmd, work)
        pool = collections.Counter(normalize(l, ref_pids) for l in ref)
        hit = 0
        for l in got:
            n = normalize(l, got_pids)
            if pool[n] > 0:
                pool[n] -= 1
                hit += 1
            else:
                unmatched[re.sub(r'"[^"]*"', '"…"', n)[:160]] += 1
        print(f"{name:14} {hit:6}/{len(got):<6} {100.0 * hit / max(len(got), 1):6.1f}%  (strace: {len(ref)} lines)")
        total += len(got)
        matched += hit
    share = matched / max(total, 1)
    print(f"{'all':14} {matched:6}/{total:<6} {100.0 * share:6.1f}%  (goal {100 * a.min:.0f}%)")
    if unmatched:
        print("\nLines strace did not print (most frequent first, strings elided):")
        for line, n in unmatched.most_common(a.show):
            print(f"  {n:5}  {line}")
    if total == 0:
        print("FAIL: the tracer printed no syscall line")
        return 1
    return 0 if share >= a.min else 1


if __name__ == "__main__":
    sys.exit(main())
