// decode_signal.cpp - signals: actions, masks, stacks, sending.
#include <fmt/format.h>
#include <signal.h>
#include <sys/syscall.h>

#include "decoder.h"
#include "event_format.h"

namespace dunetrace::decode {

namespace {

constexpr Named kSaFlags[] = {
    {0x04000000, "SA_RESTORER"}, {0x08000000, "SA_ONSTACK"}, {0x10000000, "SA_RESTART"},
    {0x40000000, "SA_NODEFER"},  {0x80000000, "SA_RESETHAND"}, {4, "SA_SIGINFO"},
    {1, "SA_NOCLDSTOP"},         {2, "SA_NOCLDWAIT"},       {0x400, "SA_UNSUPPORTED"},
    {0x800, "SA_EXPOSE_TAGBITS"},
};
constexpr Named kHow[] = {{0, "SIG_BLOCK"}, {1, "SIG_UNBLOCK"}, {2, "SIG_SETMASK"}};
constexpr Named kSsFlags[] = {{1, "SS_ONSTACK"}, {2, "SS_DISABLE"}, {0x80000000, "SS_AUTODISARM"}};

std::string handler_text(uint64_t h) {
  if (h == 0) return "SIG_DFL";
  if (h == 1) return "SIG_IGN";
  return fmt::format("{:#x}", h);
}

Value sigaction_value(Ctx& c, int i, bool out) {
  const uint8_t* a = (!out || c.ok()) && c.arg(i) ? c.object(i, 32) : nullptr;
  if (!a) return c.ptr(i);
  Value v = Value::record();
  uint64_t fl = load<uint64_t>(a, 8);
  v.add("sa_handler", Value::txt(handler_text(load<uint64_t>(a, 0))));
  v.add("sa_mask", Value::txt(sigset_text(load<uint64_t>(a, 24))));
  v.add("sa_flags", Value::txt(flags(fl, kSaFlags)));
  if (fl & 0x04000000) v.add("sa_restorer", Value::txt(address(load<uint64_t>(a, 16))));
  return v;
}

Value sigset_arg(Ctx& c, int i, bool out) {
  uint64_t set;
  if (!c.arg(i) || (out && !c.ok()) || !c.read(i, &set)) return c.ptr(i);
  return Value::txt(sigset_text(set));
}

// strace's siginfo: the fields the signal's origin fills in.
Value siginfo_arg(Ctx& c, int i, bool out) {
  const uint8_t* si = (!out || c.ok()) && c.arg(i) ? c.object(i, 48) : nullptr;
  if (!si) return c.ptr(i);
  int signo = load<int32_t>(si, 0), code = load<int32_t>(si, 8);
  Value v = Value::record();
  if (signo == 0) return v;  // nothing was waited for (WNOHANG): "{}"
  v.add("si_signo", Value::txt(signal_text(signo)));
  v.add("si_code", Value::txt(si_code_name(signo, code)));
  auto num = [](auto x) { return Value::txt(std::to_string(x)); };
  if (signo == SIGCHLD && code > 0) {
    v.add("si_pid", num(load<int32_t>(si, 16)));
    v.add("si_uid", num(load<uint32_t>(si, 20)));
    v.add("si_status", Value::txt(code == 1 ? std::to_string(load<int32_t>(si, 24))
                                            : signal_text(load<int32_t>(si, 24))));
    v.add("si_utime", num(load<int64_t>(si, 32)));
    v.add("si_stime", num(load<int64_t>(si, 40)));
  } else if (code <= 0) {  // from a process: SI_USER, SI_QUEUE, SI_TKILL, ...
    v.add("si_pid", num(load<int32_t>(si, 16)));
    v.add("si_uid", num(load<uint32_t>(si, 20)));
    if (code == -1 /* SI_QUEUE */) {
      v.add("si_int", num(load<int32_t>(si, 24)));
      v.add("si_ptr", Value::txt(address(load<uint64_t>(si, 24))));
    }
  } else {
    v.add("si_addr", Value::txt(address(load<uint64_t>(si, 16))));
  }
  return v;
}

void rt_sigaction_(Ctx& c) {
  c.push(signal_text(c.iarg(0)));
  c.push(sigaction_value(c, 1, false));
  c.push(sigaction_value(c, 2, true));
  c.push(c.ulong(3));
}
void rt_sigprocmask_(Ctx& c) {
  c.push(xlat(c.arg(0), kHow, "SIG_"));
  c.push(sigset_arg(c, 1, false));
  c.push(sigset_arg(c, 2, true));
  c.push(c.ulong(3));
}
void rt_sigsuspend_(Ctx& c) {
  c.push(sigset_arg(c, 0, false));
  c.push(c.ulong(1));
}
void rt_sigpending_(Ctx& c) {
  c.push(sigset_arg(c, 0, true));
  c.push(c.ulong(1));
}

Value stack_value(Ctx& c, int i, bool out) {
  const uint8_t* s = (!out || c.ok()) && c.arg(i) ? c.object(i, 24) : nullptr;
  if (!s) return c.ptr(i);
  Value v = Value::record();
  v.add("ss_sp", Value::txt(address(load<uint64_t>(s, 0))));
  v.add("ss_flags", Value::txt(flags(load<uint32_t>(s, 8), kSsFlags)));
  v.add("ss_size", Value::txt(std::to_string(load<uint64_t>(s, 16))));
  return v;
}
void sigaltstack_(Ctx& c) {
  c.push(stack_value(c, 0, false));
  c.push(stack_value(c, 1, true));
}

void rt_sigreturn_(Ctx& c) {
  uint64_t mask;
  if (c.read(0, &mask)) c.push(fmt::format("{{mask={}}}", sigset_text(mask)));
}

void kill_(Ctx& c) {
  c.push(c.integer(0));
  c.push(signal_text(c.iarg(1)));
}
void tgkill_(Ctx& c) {
  c.push(c.integer(0));
  c.push(c.integer(1));
  c.push(signal_text(c.iarg(2)));
}
void rt_sigqueueinfo_(Ctx& c) {
  c.push(c.integer(0));
  c.push(signal_text(c.iarg(1)));
  c.push(siginfo_arg(c, 2, false));
}
void rt_tgsigqueueinfo_(Ctx& c) {
  c.push(c.integer(0));
  c.push(c.integer(1));
  c.push(signal_text(c.iarg(2)));
  c.push(siginfo_arg(c, 3, false));
}
void waitid_(Ctx& c) {
  static constexpr Named kIdTypes[] = {{0, "P_ALL"}, {1, "P_PID"}, {2, "P_PGID"}, {3, "P_PIDFD"}};
  static constexpr Named kOptions[] = {{1, "WNOHANG"}, {2, "WSTOPPED"}, {4, "WEXITED"}, {8, "WCONTINUED"},
                                       {0x1000000, "WNOWAIT"}, {0x20000000, "__WNOTHREAD"},
                                       {0x40000000, "__WALL"}, {0x80000000, "__WCLONE"}};
  c.push(xlat(c.arg(0), kIdTypes, "P_", false));
  c.push(c.integer(1));
  c.push(siginfo_arg(c, 2, true));
  c.push(flags(c.arg(3), kOptions));
  c.push(c.ptr(4));
}
void rt_sigtimedwait_(Ctx& c) {
  c.push(sigset_arg(c, 0, false));
  c.push(siginfo_arg(c, 1, true));
  c.push(c.ptr(2));
  c.push(c.ulong(3));
  if (c.ok()) c.result(ResultStyle::kDecimal);
}
void signalfd4_(Ctx& c) {
  c.push(c.fd(0));
  c.push(sigset_arg(c, 1, false));
  c.push(c.ulong(2));
  static constexpr Named kSfd[] = {{04000, "SFD_NONBLOCK"}, {02000000, "SFD_CLOEXEC"}};
  c.push(flags(c.arg(3), kSfd));
}

}  // namespace

const DecoderEntry kSignalDecoders[] = {
    {SYS_rt_sigaction, rt_sigaction_},   {SYS_rt_sigprocmask, rt_sigprocmask_},
    {SYS_rt_sigsuspend, rt_sigsuspend_}, {SYS_rt_sigpending, rt_sigpending_},
    {SYS_sigaltstack, sigaltstack_},     {SYS_kill, kill_},
    {SYS_tkill, kill_},                  {SYS_tgkill, tgkill_},
    {SYS_rt_sigqueueinfo, rt_sigqueueinfo_}, {SYS_rt_sigtimedwait, rt_sigtimedwait_},
    {SYS_signalfd4, signalfd4_},         {SYS_rt_sigreturn, rt_sigreturn_},
    {SYS_rt_tgsigqueueinfo, rt_tgsigqueueinfo_}, {SYS_waitid, waitid_},
};
const size_t kSignalDecodersCount = sizeof kSignalDecoders / sizeof kSignalDecoders[0];

}  // namespace dunetrace::decode
