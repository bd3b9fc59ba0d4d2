#!/usr/bin/env python3
"""dunetrace's acceptance tests, one case per run (--case NAME).

Each case runs dunetrace on a program of tests/dunetrace/programs (or a system
tool) and checks its trace: text lines, or JSON lines parsed with Python's json
module. Exit status: 0 pass, 1 fail, 77 skip (no usable /dev/kvm, unless
DUNE_REQUIRE_KVM=1).
"""
import argparse
import json
import os
import re
import signal
import subprocess
import sys
import tempfile
import time

SKIP = 77


class Fail(Exception):
    pass


def check(cond, what):
    if not cond:
        raise Fail(what)


def kvm_problem():
    try:
        fd = os.open("/dev/kvm", os.O_RDWR | os.O_CLOEXEC)
        os.close(fd)
        return None
    except OSError as e:
        return f"/dev/kvm: {e.strerror}"


class Env:
    def __init__(self, args, work):
        self.dt = args.dunetrace
        self.bin = args.programs
        self.src = args.sources
        self.work = work

    def prog(self, name):
        return os.path.join(self.bin, name)

    def line_of(self, source, marker):
        with open(os.path.join(self.src, source)) as f:
            for n, line in enumerate(f, 1):
                if f"LINE:{marker}" in line:
                    return n
        raise Fail(f"no LINE:{marker} in {source}")

    def run(self, args, expect=None, timeout=60):
        p = subprocess.run([self.dt] + args, capture_output=True, text=True, timeout=timeout)
        if expect is not None and p.returncode != expect:
            raise Fail(f"dunetrace {' '.join(args)}: exit status {p.returncode}, expected {expect}\n"
                       f"stdout: {p.stdout[-2000:]}\nstderr: {p.stderr[-4000:]}")
        return p

    def trace(self, args, expect, name="trace.txt"):
        """Runs dunetrace -o FILE ARGS; returns (process, trace text)."""
        path = os.path.join(self.work, name)
        p = self.run(["-o", path] + args, expect)
        with open(path) as f:
            return p, f.read()


def json_lines(text):
    events = []
    for n, line in enumerate(text.splitlines(), 1):
        try:
            events.append(json.loads(line))
        except json.JSONDecodeError as e:
            raise Fail(f"line {n} is not JSON ({e}): {line!r}")
    return events


def frame_names(ev):
    return [f.get("function", "") for f in ev.get("backtrace", [])]


def has_frame(ev, function, file_suffix=None, line=None):
    for f in ev.get("backtrace", []):
        if f.get("function") != function:
            continue
        if file_suffix and not f.get("file", "").endswith(file_suffix):
            continue
        if line is not None and f.get("line") != line:
            continue
        return True
    return False


# ---------------------------------------------------------------- cases

def case_badstack_heap(env):
    line = env.line_of("badstack.c", "heap")
    _, text = env.trace(["--json", "-k", "-e", "badstack,process", env.prog("badstack"), "heap"], 0)
    events = json_lines(text)
    bad = [e for e in events if e["event"] == "badstack"]
    check(bad, f"no badstack event in:\n{text}")
    good = [e for e in bad if has_frame(e, "lost_in_the_heap", "badstack.c", line)]
    check(good, f"no badstack backtrace names lost_in_the_heap at badstack.c:{line}:\n{text}")
    e = good[0]
    m = e["mapping"]
    check(m is not None and m["kind"] == "anon", f"the mapping rsp fell in is not an anonymous one: {e}")
    rsp = int(e["rsp"], 16)
    check(int(m["start"], 16) <= rsp < int(m["end"], 16), f"rsp is not in the mapping reported: {e}")
    check(not (int(e["stack"]["start"], 16) <= rsp <= int(e["stack"]["end"], 16)), f"rsp is in the stack: {e}")
    # The same in text: the event line, then the backtrace with the line.
    _, text = env.trace(["-k", "-e", "badstack", env.prog("badstack"), "heap"], 0, "text.txt")
    check(re.search(r"^badstack rsp=0x[0-9a-f]+ in 0x[0-9a-f]+-0x[0-9a-f]+ rw- .*\(not a stack\)", text, re.M),
          f"no badstack line in:\n{text}")
    check(re.search(rf"^ > #\d+ 0x[0-9a-f]+ lost_in_the_heap\+0x[0-9a-f]+ \(\S*badstack\.c:{line}\) ", text, re.M),
          f"no backtrace line names lost_in_the_heap at badstack.c:{line}:\n{text}")


def case_badstack_nowhere(env):
    # rsp where nothing is mapped: the event, a backtrace that stops, no crash.
    p, text = env.trace(["--json", "-k", env.prog("badstack"), "nowhere"], 128 + 11)
    events = json_lines(text)
    bad = [e for e in events if e["event"] == "badstack"]
    check(bad, f"no badstack event in:\n{text}")
    check(bad[0]["mapping"] is None, f"rsp=0x10000 fell in a mapping? {bad[0]}")
    check(frame_names(bad[0])[:1] == ["lost_in_nowhere"], f"the backtrace does not start in lost_in_nowhere: {bad[0]}")
    ends = [e for e in events if e["event"] == "process" and e.get("killed_by") == "SIGSEGV"]
    check(ends, f"the process was not reported killed by SIGSEGV:\n{text}")
    fatal = [e for e in events if e["event"] == "fault"]
    check(fatal and fatal[-1]["outcome"] == "fatal", f"no fatal fault after the bad stack:\n{text}")
    check("dunetrace:" not in p.stderr, f"dunetrace complained: {p.stderr}")


def case_readonly_fault(env):
    line = env.line_of("readonly_fault.c", "poke")
    p, text = env.trace([env.prog("readonly_fault")], 128 + 11)
    m = re.search(r"page (0x[0-9a-f]+)", p.stdout)
    check(m, f"the program's own stdout is not on stdout: {p.stdout!r}")
    addr = int(m.group(1), 16) + 8
    fault = re.search(rf"^fault page_fault write {addr:#x} \(mapped r--\) at 0x[0-9a-f]+ "
                      rf"poke_readonly\+0x[0-9a-f]+ \(\S*readonly_fault\.c:{line}\) -> fatal SIGSEGV$", text, re.M)
    check(fault, f"no fault line for the write at {addr:#x} in poke_readonly (line {line}):\n{text}")
    killed = re.search(r"^\+\+\+ killed by SIGSEGV \+\+\+$", text, re.M)
    check(killed and killed.start() > fault.start(), f"no SIGSEGV death after the fault:\n{text}")
    # JSON, with a backtrace through main.
    p, text = env.trace(["--json", "-k", "-e", "fault", env.prog("readonly_fault")], 128 + 11, "f.json")
    addr = int(re.search(r"page (0x[0-9a-f]+)", p.stdout).group(1), 16) + 8
    faults = [e for e in json_lines(text) if e["event"] == "fault"]
    check(faults, f"no fault event:\n{text}")
    f = faults[0]
    check(f["access"] == "write" and f["prot"] == "r--" and f["mapped"] and f["outcome"] == "fatal"
          and f["signal"] == "SIGSEGV" and int(f["addr"], 16) == addr, f"fault event: {f}")
    check(f["at"]["function"] == "poke_readonly" and f["at"]["line"] == line, f"fault location: {f['at']}")
    check(has_frame(f, "main"), f"the backtrace does not reach main: {f}")


def summary_rows(text):
    rows = {}
    for line in text.splitlines():
        parts = line.split()
        if len(parts) >= 7 and re.match(r"^\d+\.\d\d$", parts[0]):
            rows[parts[-1]] = parts
    return rows


def case_summary_getppid(env):
    _, text = env.trace(["-c", env.prog("getppid_loop"), "1000"], 0)
    rows = summary_rows(text)
    check("getppid" in rows, f"no getppid row:\n{text}")
    # % cyc, total, avg, min, max, calls, [errors], name
    check(rows["getppid"][5] == "1000", f"getppid count is not 1000: {rows['getppid']}\n{text}")
    check("total" in rows and "syscall" in rows, f"no total or syscall exit rows:\n{text}")
    _, text = env.trace(["-c", "--json", env.prog("getppid_loop"), "1000"], 0, "c.json")
    rows = [e for e in json_lines(text) if e.get("table") == "syscall" and e["name"] == "getppid"]
    check(len(rows) == 1 and rows[0]["count"] == 1000, f"JSON getppid row: {rows}")
    exits = [e for e in json_lines(text) if e.get("table") == "exit" and e["name"] == "syscall"]
    check(exits and exits[0]["count"] >= 1000, f"fewer than 1000 syscall exits: {exits}")
    # With -f every process and thread adds to the one table: five tasks, one getpgid each.
    _, text = env.trace(["-c", "-f", "-e", "syscall=getpgid", env.prog("forks_threads")], 0, "cf.txt")
    rows = summary_rows(text)
    check("getpgid" in rows and rows["getpgid"][5] == "5", f"-c -f does not count 5 getpgid:\n{text}")


def case_json(env):
    # Every kind of event, from several processes and threads, with backtraces.
    _, text = env.trace(["--json", "-f", "-k", "-e", "all", env.prog("forks_threads")], 0)
    events = json_lines(text)
    kinds = {e["event"] for e in events}
    check({"exit", "syscall", "process"} <= kinds, f"missing event kinds, got {kinds}")
    for e in events:
        check(isinstance(e["pid"], int) and isinstance(e["tid"], int), f"no pid/tid: {e}")
    _, text = env.trace(["--json", "-k", "-T", env.prog("readonly_fault")], 128 + 11, "f.json")
    events = json_lines(text)
    check(any(e["event"] == "fault" for e in events), "no fault event in JSON")
    check(any("seconds" in e for e in events), "-T gave no seconds")
    # VM exits: the reason, the guest rip symbolized, the host's cycles.
    _, text = env.trace(["--json", "-e", "exit=syscall", env.prog("getppid_loop"), "3"], 0, "exits.json")
    exits = json_lines(text)
    check(all(e["event"] == "exit" and e["reason"] == "syscall" and e["cycles"] > 0 for e in exits),
          f"exit events:\n{text}")
    ours = [e for e in exits if e["at"].get("function") == "syscall"]
    check(len(ours) == 3, f"not 3 exits at libc's syscall():\n{text}")
    # -T in text: seconds, as strace prints them, the result at column 40.
    _, text = env.trace(["-T", "-e", "syscall=getppid", env.prog("getppid_loop"), "2"], 0, "t.txt")
    check(re.fullmatch(r"(getppid\(\) {31}= \d+ <\d+\.\d{6}>\n){2}", text), f"-T lines:\n{text}")


def tasks_printed(stdout):
    tasks = set()
    for line in stdout.splitlines():
        m = re.match(r"^task (\d+) (\d+)$", line)
        if m:
            tasks.add((int(m.group(1)), int(m.group(2))))
    check(len(tasks) == 5, f"the program printed {len(tasks)} tasks, not 5: {stdout!r}")
    return tasks


def case_follow(env):
    p, text = env.trace(["-f", "--json", "-e", "syscall=getpgid,getsid", "-e", "process", env.prog("forks_threads")], 0)
    tasks = tasks_printed(p.stdout)
    events = json_lines(text)
    marked = set()
    for e in events:
        if e["event"] == "syscall":
            arg = int(e["args"][0], 0)
            if e["name"] == "getpgid":
                check(arg == e["tid"], f"getpgid({arg}) labelled tid {e['tid']}: {e}")
                marked.add((e["pid"], e["tid"]))
            else:
                check(e["name"] == "getsid" and arg == e["pid"], f"wrong label or syscall: {e}")
    check(marked == tasks, f"tasks seen {sorted(marked)} != tasks printed {sorted(tasks)}")
    pids = {pid for pid, _ in tasks}
    # The first process has three tasks (two threads), its child two.
    root = next(pid for pid in pids if sum(1 for t in tasks if t[0] == pid) == 3)
    starts = [e for e in events if e["event"] == "process" and e["action"] == "start"]
    procs = {e["pid"]: e for e in starts if e["what"] == "process"}
    check(pids <= set(procs), f"no process start for every process: {starts}")
    child = next(pid for pid in pids if pid != root)
    check(procs[child]["ppid"] == root, f"the child's start does not name its parent {root}: {procs[child]}")
    threads = {(e["pid"], e["tid"]) for e in starts if e["what"] == "thread"}
    check(threads == {t for t in tasks if t[0] != t[1]}, f"thread starts {threads} != threads {tasks}")
    ends = [e for e in events if e["event"] == "process" and e["action"] == "exit" and e["what"] == "process"]
    check({(e["pid"], e.get("status")) for e in ends} == {(root, 0), (child, 3)}, f"process ends: {ends}")
    thread_ends = {(e["pid"], e["tid"]) for e in events
                   if e["event"] == "process" and e["action"] == "exit" and e["what"] == "thread" and e["status"] == 0}
    check(thread_ends == threads, f"thread ends {thread_ends} != threads {threads}")
    # Threads run on stacks of their own: none is a bad stack.
    _, text = env.trace(["-f", "-e", "badstack", env.prog("forks_threads")], 0, "bs.txt")
    check(text == "", f"bad stacks in threads:\n{text}")


def case_follow_text(env):
    p, text = env.trace(["-f", env.prog("forks_threads")], 0)
    tasks = tasks_printed(p.stdout)
    seen = set()
    for line in text.splitlines():
        if line.startswith(" > "):
            continue
        m = re.match(r"^\[pid (\d+) tid (\d+)\] (.*)$", line)
        check(m, f"line without pid/tid: {line!r}")
        pid, tid, rest = int(m.group(1)), int(m.group(2)), m.group(3)
        call = re.match(r"^(getpgid|getsid)\((\d+)\)", rest)
        if call:
            want = tid if call.group(1) == "getpgid" else pid
            check(int(call.group(2)) == want, f"wrong label: {line!r}")
            seen.add((pid, tid))
    check(seen == tasks, f"tasks seen {sorted(seen)} != tasks printed {sorted(tasks)}")


def case_signals(env):
    # Delivered to handlers, one on a sigaltstack (no bad stack there).
    _, text = env.trace(["--json", "-e", "signal,badstack,process", env.prog("signals"), "handled"], 0)
    events = json_lines(text)
    check(not [e for e in events if e["event"] == "badstack"], f"a handler on its sigaltstack is a bad stack?\n{text}")
    sigs = [e for e in events if e["event"] == "signal"]
    check([e["signal"] for e in sigs] == ["SIGUSR1", "SIGUSR2"], f"signals: {sigs}")
    usr1, usr2 = sigs
    check(usr1["code"] == "SI_TKILL" and usr1["sender_pid"] == usr1["pid"] and
          usr1["handler_at"]["function"] == "on_usr1", f"SIGUSR1: {usr1}")
    check(usr2["code"] == "SI_USER" and usr2["handler_at"]["function"] == "on_usr2", f"SIGUSR2: {usr2}")
    _, text = env.trace(["-e", "signal=SIGUSR2", env.prog("signals"), "handled"], 0, "usr2.txt")
    check(re.fullmatch(r"--- SIGUSR2 \{si_code=SI_USER, si_pid=\d+, si_uid=\d+\} handler 0x[0-9a-f]+ on_usr2\+0x0 "
                       r"\(\S*signals\.c:\d+\) at 0x[0-9a-f]+ kill\+0x[0-9a-f]+ .*---\n", text),
          f"-e signal=SIGUSR2:\n{text}")
    # A fault caught by the program: the fault (outcome signal), then its signal.
    _, text = env.trace(["--json", "-e", "fault,signal", env.prog("signals"), "segv"], 0, "segv.json")
    events = json_lines(text)
    check([e["event"] for e in events] == ["fault", "signal"], f"not a fault then its signal:\n{text}")
    fault, sig = events
    check(fault["outcome"] == "signal" and fault["signal"] == "SIGSEGV" and fault["prot"] == "r--" and
          fault["at"]["function"] == "poke", f"fault: {fault}")
    check(sig["signal"] == "SIGSEGV" and sig["code"] == "SEGV_ACCERR" and sig["addr"] == fault["addr"] and
          sig["handler_at"]["function"] == "on_segv", f"signal: {sig}")
    # An access the host refuses (a shared mapping past its file's end): SIGBUS.
    line = env.line_of("signals.c", "bus")
    _, text = env.trace(["--json", "-e", "fault,process", env.prog("signals"), "bus"], 128 + 7, "bus.json")
    faults = [e for e in json_lines(text) if e["event"] == "fault"]
    check(len(faults) == 1 and faults[0]["vector"] == "host" and faults[0]["outcome"] == "fatal" and
          faults[0]["signal"] == "SIGBUS" and faults[0]["at"]["line"] == line, f"host fault:\n{text}")
    # Killed by a signal's default action: the library reports the death.
    _, text = env.trace(["--json", "-e", "process", env.prog("signals"), "term"], 128 + 15, "term.json")
    deaths = [e for e in json_lines(text) if e.get("action") == "exit"]
    check(len(deaths) == 1 and deaths[0].get("killed_by") == "SIGTERM" and "tsc" in deaths[0],
          f"the death by SIGTERM is not the library's event:\n{text}")


def held_or_ended(pid):
    """Waits until process pid is a zombie or gone ("ended") or one of its
    threads waits for dunetrace in recvfrom ("held"); no timing is asserted:
    the limit only turns a hang into a failure."""
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            with open(f"/proc/{pid}/stat") as f:
                if f.read().rsplit(")", 1)[1].split()[0] in ("Z", "X"):
                    return "ended"
            for tid in os.listdir(f"/proc/{pid}/task"):
                with open(f"/proc/{pid}/task/{tid}/syscall") as f:
                    if f.read().startswith("45 "):  # recvfrom: the shim waits for an answer
                        return "held"
        except (FileNotFoundError, ProcessLookupError, IndexError):
            return "ended"
        time.sleep(0.01)
    raise Fail(f"process {pid} neither ended nor waited for dunetrace")


def case_image_end(env):
    # dunetrace is stopped while the program loads a library, makes syscalls
    # there and ends its image (exit, exec, a signal): the end waits for
    # dunetrace, which then still finds the library in the image's mappings.
    def run(end, status, name):
        path = os.path.join(env.work, name)
        p = subprocess.Popen([env.dt, "-o", path, "--json", "-e", "exit=syscall", "-e", "process",
                              env.prog("image_end"), "3"] + end,
                             stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        try:
            m = re.match(r"^pid (\d+)$", p.stdout.readline())
            check(m, "image_end did not print its pid")
            os.kill(p.pid, signal.SIGSTOP)
            try:
                p.stdin.write("go\n")
                p.stdin.close()
                state = held_or_ended(int(m.group(1)))
            finally:
                os.kill(p.pid, signal.SIGCONT)
            p.stdout.read()
            p.wait(timeout=60)
        finally:
            if p.poll() is None:
                p.kill()
                p.wait()
        check(p.returncode == status, f"{end}: dunetrace's exit status {p.returncode}, expected {status}")
        check(state == "held", f"{end}: the image ended while dunetrace was stopped")
        with open(path) as f:
            text = f.read()
        events = json_lines(text)
        late = [e for e in events if e["event"] == "exit" and e["at"].get("function") == "late_getppid" and
                e["at"].get("module", "").endswith("/libimage_end_late.so")]
        check(len(late) == 3, f"{end}: not 3 exits at late_getppid in libimage_end_late.so:\n{text}")
        return events, text

    events, text = run(["exit"], 0, "exit.json")
    ends = [e for e in events if e["event"] == "process" and e["action"] == "exit"]
    check(len(ends) == 1 and ends[0].get("status") == 0, f"exit: the process end:\n{text}")
    # The first image's exits come before the exec; the new image's are symbolized too.
    events, text = run(["exec", env.prog("getppid_loop"), "2"], 0, "exec.json")
    execd = [n for n, e in enumerate(events) if e["event"] == "process" and e.get("action") == "exec"]
    check(len(execd) == 1 and all(e["at"].get("function") != "late_getppid" for e in events[execd[0]:]
                                  if e["event"] == "exit"), f"exec: one exec after the first image's exits:\n{text}")
    after = [e for e in events[execd[0]:] if e["event"] == "exit" and e["at"].get("function") == "syscall"]
    check(len(after) == 2, f"exec: not 2 exits at libc's syscall() after the exec:\n{text}")
    events, text = run(["term"], 128 + 15, "term.json")
    deaths = [e for e in events if e["event"] == "process" and e.get("killed_by") == "SIGTERM"]
    check(len(deaths) == 1, f"term: the death by SIGTERM:\n{text}")


def case_filter(env):
    data = os.path.join(env.work, "data.txt")
    with open(data, "w") as f:
        f.write("hello\n")
    p, text = env.trace(["-e", "syscall=openat,read", "cat", data], 0)
    check(p.stdout == "hello\n", f"cat's output changed: {p.stdout!r}")
    names = [re.match(r"^(\w+)\(", l).group(1) for l in text.splitlines()]
    check(names and set(names) == {"openat", "read"}, f"other lines than openat and read:\n{text}")
    _, text = env.trace(["-e", "syscall=!getppid", env.prog("getppid_loop"), "5"], 0, "t2.txt")
    check("getppid(" not in text and "+++" not in text and re.search(r"^exit_group\(0\) += \?$", text, re.M),
          f"!getppid let getppid or other kinds through, or exit_group's line is missing:\n{text}")
    _, text = env.trace(["-e", "exit=exception,trap_return", env.prog("badstack"), "heap"], 0, "t3.txt")
    lines = text.splitlines()
    check(any(l.startswith("exit exception page_fault at ") for l in lines) and
          any(l.startswith("exit trap_return at ") for l in lines) and
          all(re.match(r"^exit (exception|trap_return) ", l) for l in lines),
          f"not exactly the page fault and trap return exits:\n{text}")


def case_output_files(env):
    # -o FILE: the trace there, the program's stdout and stderr its own.
    p, text = env.trace(["sh", "-c", "echo out; echo err >&2"], 0)
    check(p.stdout == "out\n" and p.stderr == "err\n", f"program output changed: {p.stdout!r} {p.stderr!r}")
    check(re.search(r'^write\(1, "out\\n", 4\) += 4$', text, re.M), f"no write in the trace:\n{text}")
    # Without -o the trace goes to stderr.
    p = env.run([env.prog("getppid_loop"), "3"], 0)
    check(p.stdout == "" and p.stderr.count("getppid()") == 3, f"trace on stderr: {p.stderr!r}")
    # --ff: one file per process, each with only its own lines.
    base = os.path.join(env.work, "per")
    p = env.run(["--ff", "-o", base, env.prog("forks_threads")], 0)
    tasks = tasks_printed(p.stdout)
    for pid in {pid for pid, _ in tasks}:
        with open(f"{base}.{pid}") as f:
            lines = [l for l in f.read().splitlines() if not l.startswith(" > ")]
        check(lines, f"{base}.{pid} is empty")
        for l in lines:
            check(l.startswith(f"[pid {pid} tid "), f"{base}.{pid} has a line of another process: {l!r}")


def case_strace_options(env):
    # strace's options on strace's lines (docs/dunetrace.md, "strace's lines").
    data = os.path.join(env.work, "data.txt")
    with open(data, "w") as f:
        f.write("hello\n")
    cat = ["cat", data]
    _, text = env.trace(["-y", "-e", "trace=openat,read"] + cat, 0, "y.txt")
    check(re.search(rf'^openat\(AT_FDCWD, "{re.escape(data)}", O_RDONLY\) += 3<{re.escape(data)}>$', text, re.M) and
          re.search(rf'^read\(3<{re.escape(data)}>, "hello\\n", \d+\) += 6$', text, re.M), f"-y:\n{text}")
    _, text = env.trace(["-s", "2", "-e", "trace=read"] + cat, 0, "s.txt")
    check(re.search(r'^read\(3, "he"\.\.\., \d+\) += 6$', text, re.M), f"-s 2:\n{text}")
    missing = os.path.join(env.work, "missing")
    _, text = env.trace(["-Z", "-e", "trace=%file", "cat", missing], 1, "z.txt")
    lines = [l for l in text.splitlines() if not l.startswith("+++")]
    check(lines and all(" = -1 E" in l for l in lines) and any(missing in l for l in lines), f"-Z:\n{text}")
    _, text = env.trace(["-z", "-e", "trace=%file", "cat", missing], 1, "z2.txt")
    check(all(" = -1 " not in l for l in text.splitlines()), f"-z:\n{text}")
    for flag, stamp in (("-t", r"\d\d:\d\d:\d\d "), ("-tt", r"\d\d:\d\d:\d\d\.\d{6} "),
                        ("-ttt", r"\d{10}\.\d{6} "), ("-r", r" *\d+\.\d{6} ")):
        _, text = env.trace([flag, "-qq", "-e", "trace=read"] + cat, 0, "t.txt")
        lines = text.splitlines()
        check(lines and all(re.match(stamp + r"read\(", l) for l in lines), f"{flag}:\n{text}")
    _, text = env.trace(["--json", "-e", "trace=openat"] + cat, 0, "j.json")
    opens = [e for e in json_lines(text) if e["event"] == "syscall" and e["args"][1] == data]
    check(len(opens) == 1 and opens[0]["args"][0] == "AT_FDCWD" and opens[0]["args"][2] == "O_RDONLY" and
          opens[0]["ret"] == 3 and opens[0]["result"] == "3", f"--json openat:\n{text}")


def case_bad_input(env):
    def expect(args, status, pattern):
        p = env.run(args, status)
        check(re.search(pattern, p.stderr), f"dunetrace {args}: stderr {p.stderr!r} lacks /{pattern}/")
        check(p.stdout == "", f"dunetrace {args} wrote to stdout: {p.stdout!r}")

    noexec = os.path.join(env.work, "noexec")
    with open(noexec, "w") as f:
        f.write("#!/bin/sh\n")
    os.chmod(noexec, 0o644)
    expect(["--bogus", "true"], 2, r"unrecognised option '--bogus'")
    expect([], 2, r"must have PROG")
    expect(["-o"], 2, r"dunetrace: ")
    expect(["--ff", "true"], 2, r"--ff needs -o")
    expect(["--stack-depth", "0", "true"], 2, r"stack-depth")
    expect(["-e", "bogus", "true"], 2, r"invalid event kind 'bogus'")
    expect(["-e", "syscall=nosuchcall", "true"], 2, r"invalid syscall name 'nosuchcall'")
    expect(["-e", "signal=SIGBOGUS", "true"], 2, r"invalid signal 'SIGBOGUS'")
    expect(["-e", "exit=nowhere", "true"], 2, r"invalid exit reason 'nowhere'")
    expect(["/nonexistent/prog"], 127, r"Can't stat '/nonexistent/prog'")
    expect(["no-such-program-anywhere"], 127, r"Can't stat 'no-such-program-anywhere'")
    expect([noexec], 127, r"is not executable")
    expect([env.work], 127, r"is a directory")
    expect(["-o", "/nonexistent/dir/trace", "true"], 2, r"can't open '/nonexistent/dir/trace'")
    expect(["-o", env.work, "true"], 2, r"can't open")
    expect(["--ff", "-o", "/nonexistent/dir/trace", "true"], 2, r"can't write trace files")


def case_help(env):
    p = env.run(["--help"], 0)
    for opt in ["-o", "--ff", "-f", "-e", "-k", "--stack-depth", "-c", "--json", "-T", "-s", "-y", "-r", "-z",
                "-Z", "-tt", "-qq", "trace=%file", "status=", "--help"]:
        check(re.search(rf"(^|[\s\[,]){re.escape(opt)}\b", p.stdout), f"--help does not show {opt}")
    for kind in ["exit", "syscall", "fault", "badstack", "signal", "process"]:
        check(kind in p.stdout, f"--help does not explain {kind}")
    check("Example" in p.stdout and "dunetrace -f" in p.stdout, "--help has no example")


CASES = {name[5:]: fn for name, fn in globals().items() if name.startswith("case_")}
NEEDS_KVM = set(CASES) - {"bad_input", "help"}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--dunetrace", required=True)
    ap.add_argument("--programs", required=True)
    ap.add_argument("--sources", required=True)
    ap.add_argument("--case", required=True, choices=sorted(CASES))
    args = ap.parse_args()
    if args.case in NEEDS_KVM:
        problem = kvm_problem()
        if problem:
            if os.environ.get("DUNE_REQUIRE_KVM") == "1":
                print(f"FAIL: {problem} (DUNE_REQUIRE_KVM=1)")
                return 1
            print(f"SKIP: {problem}")
            return SKIP
    with tempfile.TemporaryDirectory(prefix="dunetrace-test.") as work:
        try:
            CASES[args.case](Env(args, work))
        except Fail as e:
            print(f"FAIL: {args.case}: {e}")
            return 1
        except subprocess.TimeoutExpired as e:
            print(f"FAIL: {args.case}: timed out: {e}")
            return 1
    print(f"ok: {args.case}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
