#!/usr/bin/env python3
"""The gdb server in the library (DUNE_GDB): the real gdb, in batch mode, against programs under
the shim: breakpoints in the program and in libc, bt, finish, next/step, registers (general,
SSE, AVX), a watchpoint, a second thread's breakpoint, a SIGSEGV stop with its address, signal 0,
continue to the exit status, detach, kill, a forked child left alone. Then the protocol by hand:
a bad checksum, an unknown packet, a second client, Ctrl-C, a client that vanishes. Every
program's output and status is compared with a native run.

--storm LIB: the same with a CPU-time timer signal firing throughout (gdb passes it on silently).
Exit status: 0 pass, 1 fail, 77 skip (no usable /dev/kvm, or no gdb, unless DUNE_REQUIRE_KVM=1).
"""
import argparse
import os
import re
import select
import shutil
import socket
import subprocess
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "support"))
import skipping  # noqa: E402
import time

failures = []
args = None

# gdb's Python: stepi to write's syscall instruction, then once more.
STEP_OVER_SYSCALL = """
import gdb
arch = gdb.selected_inferior().architecture()
for i in range(300):
    pc = int(gdb.parse_and_eval("$pc"))
    if arch.disassemble(pc)[0]["asm"].startswith("syscall"):
        break
    gdb.execute("stepi", to_string=True)
gdb.execute("stepi", to_string=True)
now = int(gdb.parse_and_eval("$pc"))
print("STEP-OVER-SYSCALL", "ok" if now == pc + 2 and int(gdb.parse_and_eval("$rax")) > 0 else "off by %d" % (now - pc))
"""


def check(cond, what, detail=""):
    print(f"gdb_server: {'ok' if cond else 'FAIL'}: {what}")
    if not cond:
        failures.append(what)
        if detail:
            print("    " + detail.replace("\n", "\n    ")[-4000:])


def base_env():
    return {"PATH": "/usr/bin:/bin", "LANG": "C", "HOME": os.environ.get("HOME", "/root")}


def native(mode_args):
    env = base_env()
    if args.storm:
        env["LD_PRELOAD"] = args.storm
    p = subprocess.run([args.program] + mode_args, env=env, capture_output=True, text=True, timeout=120)
    return p.returncode, p.stdout


class Debuggee:
    """The program under the shim with DUNE_GDB=127.0.0.1:0, waiting for gdb; .address from its line."""

    def __init__(self, mode_args, extra_env=None):
        env = base_env()
        env["LD_PRELOAD"] = args.shim + (f" {args.storm}" if args.storm else "")
        env["DUNE_GDB"] = "127.0.0.1:0"
        env.update(extra_env or {})
        self.p = subprocess.Popen([args.program] + mode_args, env=env, stdout=subprocess.PIPE,
                                  stderr=subprocess.PIPE, text=True)
        self.first_err = self.p.stderr.readline()
        m = re.search(r"waiting for a debugger on (127\.0\.0\.1:\d+)", self.first_err)
        self.address = m.group(1) if m else None

    def finish(self, timeout=120):
        try:
            out, err = self.p.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.p.kill()
            out, err = self.p.communicate()
            err += "\n(killed by the test: it did not end)"
        return self.p.returncode, out, self.first_err + err


def gdb(d, *commands, pre=()):
    cmd = ["gdb", "-nx", "-batch"]
    for c in pre:
        cmd += ["-ex", c]
    if args.storm:
        cmd += ["-ex", "handle SIG40 nostop noprint pass"]
    if not args.hw_watch:
        cmd += ["-ex", "set can-use-hw-watchpoints 0"]
    cmd += ["-ex", f"target remote {d.address}"]
    for c in commands:
        cmd += ["-ex", c]
    cmd.append(args.program)
    p = subprocess.run(cmd, env=base_env(), stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=180)
    return p.stdout + p.stderr


def session(name, mode_args, commands, expect, want_status, want_out=None, extra_env=None):
    """Runs gdb's commands against the program; every regex of expect must match gdb's output."""
    d = Debuggee(mode_args, extra_env)
    if not d.address:
        check(False, f"{name}: the program says where it waits for gdb", d.first_err)
        d.p.kill()
        d.finish()
        return ""
    out = gdb(d, *commands)
    status, pout, perr = d.finish()
    detail = f"gdb:\n{out}\nprogram stderr:\n{perr}"
    for rx in expect:
        check(re.search(rx, out, re.M) is not None, f"{name}: gdb shows /{rx}/", detail)
    check(status == want_status, f"{name}: the program's status {want_status}", f"status {status}\n{detail}")
    if want_out is not None:
        check(pout == want_out, f"{name}: the program's output as natively", f"{pout!r} vs {want_out!r}")
    return out


class Rsp:
    """A remote-protocol client by hand, for what gdb never sends."""

    def __init__(self, address):
        host, port = address.rsplit(":", 1)
        self.s = socket.create_connection((host, int(port)), timeout=30)
        self.buf = b""

    def raw(self, data):
        self.s.sendall(data)

    def send(self, payload):
        body = payload.encode()
        self.raw(b"$" + body + b"#" + f"{sum(body) % 256:02x}".encode())

    def read_some(self, timeout=30):
        r, _, _ = select.select([self.s], [], [], timeout)
        if not r:
            return b""
        return self.s.recv(65536)

    def packet(self, timeout=30):
        """The next packet's payload (acks skipped), or None."""
        end = time.time() + timeout
        while True:
            m = re.search(rb"\$([^#]*)#[0-9a-f]{2}", self.buf)
            if m:
                self.buf = self.buf[m.end():]
                self.raw(b"+")
                return m.group(1).decode(errors="replace")
            left = end - time.time()
            if left <= 0:
                return None
            chunk = self.read_some(left)
            if not chunk:
                return None
            self.buf += chunk

    def ask(self, payload):
        self.send(payload)
        return self.packet()

    def close(self):
        self.s.close()


def exec_case(basic_out):
    """DUNE_GDB_EXEC=1: the image the program execs waits for gdb again (on a port of its own)."""
    d = Debuggee(["exec"], {"DUNE_GDB_EXEC": "1"})
    if not d.address:
        check(False, "exec: the program waits for gdb", d.first_err)
        d.p.kill()
        d.finish()
        return
    first = gdb(d, "continue")
    check("Remote connection closed" in first or "exited" not in first,
          "exec: the first session ends at the exec (the connection goes with the image)", first)
    line = d.p.stderr.readline()
    m = re.search(r"waiting for a debugger on (127\.0\.0\.1:\d+)", line)
    check(m is not None, "exec: the new image waits for gdb again", line)
    if m:
        d.address = m.group(1)
        second = gdb(d, "break work", "continue", "continue")
        check("Breakpoint 1, work (x=5)" in second and "exited with code 017" in second,
              "exec: a second gdb debugs the new image", second)
    status, out, err = d.finish()
    check(status == 15 and out == basic_out, "exec: the new image's output and status", f"{status} {out!r} {err}")


def protocol_cases():
    d = Debuggee(["spin", "2"])
    if not d.address:
        check(False, "protocol: the program waits for gdb", d.first_err)
        d.p.kill()
        return
    c = Rsp(d.address)
    # A bad checksum is answered with '-'.
    c.raw(b"$?#00")
    time.sleep(0.2)
    check(b"-" in c.read_some(5), "protocol: a bad checksum gets '-'")
    first = c.ask("?") or ""
    check(first.startswith("T05thread:"), "protocol: '?' is the first stop (SIGTRAP, a thread)", first)
    check(c.ask("qNoSuchThing") == "", "protocol: an unknown packet gets the empty reply")
    check((c.ask("m0,8") or "").startswith("E"), "protocol: reading address 0 is an error, not a crash")
    check(c.ask("Z0,0,1") == "E01", "protocol: a breakpoint at address 0 is refused")
    check(c.ask("Hgzz") == "E01", "protocol: a malformed thread id is refused")
    # A second client is turned away; the first goes on.
    second = Rsp(d.address)
    got = second.packet(10)
    check(got == "E01", "protocol: a second client gets E01 and is closed", repr(got))
    second.close()
    check((c.ask("qC") or "").startswith("QC"), "protocol: the first client still answered")
    if args.storm:
        # gdb's number for signal 40: passed on without a stop, as "handle SIG40 nostop" makes gdb say.
        check(c.ask("QPassSignals:34") == "OK", "protocol: QPassSignals")
    # Continue, then Ctrl-C: a SIGINT stop while the program spins.
    c.send("vCont;c")
    time.sleep(0.3)
    c.raw(b"\x03")
    reply = c.packet(20) or ""
    check(reply.startswith("T02"), "protocol: Ctrl-C stops the running program with SIGINT", reply)
    # Continue and vanish: the program goes on to its own end.
    c.send("c")
    time.sleep(0.2)
    c.close()
    status, out, err = d.finish(60)
    check(status == 5 and out.endswith("spun\n"), "protocol: after the client vanished the program ran to its end",
          f"status {status} out {out!r} err {err}")
    check("connection ended" in err, "protocol: the program's stderr says the debugger went away", err)


def main():
    global args
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--shim", required=True)
    ap.add_argument("--program", required=True, help="tests/preload/programs/gdb_target.c")
    ap.add_argument("--storm", help="the signal-storm library to preload as well")
    args = ap.parse_args()
    args.shim, args.program = os.path.abspath(args.shim), os.path.abspath(args.program)
    try:
        os.close(os.open("/dev/kvm", os.O_RDWR))
    except OSError as e:
        return skip(f"/dev/kvm is not usable ({e})")
    if not shutil.which("gdb", path="/usr/bin:/bin"):
        return skip("gdb is not installed (scripts/install-deps.sh installs it)")
    # Hardware watchpoints exist where KVM runs on VT-x, not on PVM nor AMD-V (flavour.h).
    args.hw_watch = os.path.exists("/sys/module/kvm_intel") and not os.path.exists("/sys/module/kvm_pvm")
    avx = " avx " in open("/proc/cpuinfo").read().replace("\n", " ")

    st, basic_out = native(["basic"])
    check(st == 15, "natively: basic exits 15")
    regs = ["p $xmm0.v2_double[0]", "info registers eflags"] + (["p $ymm0.v4_double[0]"] if avx else [])
    out = session("basic", ["basic"],
                  ["break work", "continue", "bt", "finish",
                   "break scaled", "continue"] + regs +
                  ["info registers rip", "p $rip == $pc", "next",
                   "break second_thread", "continue", "info threads",
                   "watch counter", "continue", "delete", "continue"],
                  [r"^Breakpoint 1, work \(x=5\)", r"^#1 .* in main \(", r"Value returned is \$\d+ = 15",
                   r"^Breakpoint 2, scaled \(a=1.5\)", r"^\$\d+ = 1.5$", r"^eflags\s+0x[0-9a-f]+\s+\[",
                   r"Thread 2 hit Breakpoint 3, second_thread", r"^\* 2\s+Thread \d+\s+second_thread",
                   r"^  1\s+Thread \d+", r"Old value = 3\s+New value = 103",
                   r"exited with code 017"] + ([r"^\$\d+ = 1.5$"] * 2 if avx else []),
                  15, basic_out)
    check(out.count("= 1.5\n") >= (2 if avx else 1), "basic: xmm0 (and ymm0) hold scaled's argument", out)

    # Under the storm: the cases where signals meet syscalls, steps and stops; the rest once.
    full = not args.storm
    if full:
        session("libc", ["basic"], ["break write", "continue", "bt", "kill"],
                [r"Breakpoint 1(\.\d+)?, .*write", r"in main \("], -9)
    # stepi over the syscall instruction stops right after it, with the syscall's result.
    script = os.path.join(os.environ.get("TMPDIR", "/tmp"), f"gdb_server_step.{os.getpid()}.py")
    with open(script, "w") as f:
        f.write(STEP_OVER_SYSCALL)
    try:
        session("stepi over a syscall", ["basic"], ["break write", "continue", f"source {script}", "delete", "continue"],
                [r"STEP-OVER-SYSCALL ok", r"exited with code 017"], 15, basic_out)
    finally:
        os.unlink(script)
    # libc functions the library's host side runs as well: their int3 is stepped over there.
    if full:
        session("libc shared with the library", ["basic"], ["break memset", "break memcpy", "continue", "delete", "continue"],
                [r"Breakpoint \d+(\.\d+)?, .*mem(set|cpy)", r"exited with code 017"], 15, basic_out)

    st, _ = native(["segv"])
    session("segv", ["segv"],
            ["continue", "p $_siginfo.si_signo", "p $_siginfo._sifields._sigfault.si_addr", "signal 0", "continue"],
            [r"Program received signal SIGSEGV", r"^\$1 = 11$", r"^\$2 = \(void \*\) 0x10$",
             r"Program received signal SIGSEGV(.|\n)*Program received signal SIGSEGV",
             r"Program terminated with signal SIGSEGV"], st)

    st, sig_out = native(["signal"])
    session("signal 0", ["signal"], ["continue", "signal 0"],
            [r"Program received signal SIGUSR1", r"exited with code 03"], st, sig_out.replace("gdb_target: handler ran\n", ""))
    session("signal passed", ["signal"], ["continue", "continue"],
            [r"Program received signal SIGUSR1", r"exited with code 03"], st, sig_out)

    session("detach", ["basic"], ["break bump", "continue", "detach"],
            [r"Breakpoint 1, bump \(by=1\)", r"Detaching|detached"], 15, basic_out)
    if full:
        session("kill", ["basic"], ["break bump", "continue", "kill"], [r"Breakpoint 1, bump", r"killed"], -9)

        st, fork_out = native(["fork"])
        session("fork", ["fork"], ["break work", "continue"], [r"exited with code 010"], st, fork_out)

        # A breakpoint in a library the program loads later (pending until the load).
        st, dl_out = native(["dlopen"])
        session("dlopen", ["dlopen"], ["set breakpoint pending on", "break cbrt", "continue", "bt", "continue"],
                [r"Breakpoint 1, .*cbrt", r"in main \(", r"exited with code 011"], st, dl_out)

        exec_case(basic_out)

        st, spawn_out = native(["spawn"])
        session("vfork child", ["spawn"], ["break execve", "continue"], [r"exited with code 07"], st, spawn_out)

        # DUNE_GDB_EXEC unset: what the program execs does not wait for gdb.
        d = Debuggee(["basic"])
        env_line = gdb(d, "p (char*)getenv(\"DUNE_GDB\")", "continue")
        d.finish()
        check("= 0x0" in env_line, "the program no longer sees DUNE_GDB (its execs run without gdb)", env_line)

    protocol_cases()

    if full:
        # A bad value: one line, the program runs without gdb.
        env = base_env()
        env.update(LD_PRELOAD=args.shim, DUNE_GDB="localhost:notaport")
        p = subprocess.run([args.program, "basic"], env=env, capture_output=True, text=True, timeout=60)
        check(p.returncode == 15 and p.stdout == basic_out and "DUNE_GDB='localhost:notaport'" in p.stderr,
              "a bad DUNE_GDB: one line, the program runs", p.stderr)

    if failures:
        print(f"gdb_server: {len(failures)} failed")
        return 1
    print("gdb_server: ok")
    return 0


def skip(why):
    return skipping.skip("gdb_server", why)


if __name__ == "__main__":
    sys.exit(main())
