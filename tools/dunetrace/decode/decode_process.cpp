// decode_process.cpp - processes and threads: exec, exit, clone, wait, ids,
// limits, futexes, and the per-thread set-up calls (arch_prctl, rseq, ...).
#include <fmt/format.h>
#include <sys/syscall.h>

#include "decoder.h"

namespace dunetrace::decode {

namespace {

constexpr Named kCloneFlags[] = {
    {0x100, "CLONE_VM"},           {0x200, "CLONE_FS"},             {0x400, "CLONE_FILES"},
    {0x800, "CLONE_SIGHAND"},      {0x1000, "CLONE_PIDFD"},         {0x2000, "CLONE_PTRACE"},
    {0x4000, "CLONE_VFORK"},       {0x8000, "CLONE_PARENT"},        {0x10000, "CLONE_THREAD"},
    {0x20000, "CLONE_NEWNS"},      {0x40000, "CLONE_SYSVSEM"},      {0x80000, "CLONE_SETTLS"},
    {0x100000, "CLONE_PARENT_SETTID"}, {0x200000, "CLONE_CHILD_CLEARTID"}, {0x400000, "CLONE_DETACHED"},
    {0x800000, "CLONE_UNTRACED"},  {0x1000000, "CLONE_CHILD_SETTID"}, {0x2000000, "CLONE_NEWCGROUP"},
    {0x4000000, "CLONE_NEWUTS"},   {0x8000000, "CLONE_NEWIPC"},     {0x10000000, "CLONE_NEWUSER"},
    {0x20000000, "CLONE_NEWPID"},  {0x40000000, "CLONE_NEWNET"},    {0x80000000, "CLONE_IO"},
    {0x100000000, "CLONE_CLEAR_SIGHAND"}, {0x200000000, "CLONE_INTO_CGROUP"},
};
constexpr Named kWaitOptions[] = {{1, "WNOHANG"},           {2, "WUNTRACED"},      {8, "WCONTINUED"},
                                  {0x1000000, "WNOWAIT"},   {0x20000000, "__WNOTHREAD"}, {0x40000000, "__WALL"},
                                  {0x80000000, "__WCLONE"}};
constexpr Named kRlimits[] = {
    {0, "RLIMIT_CPU"},     {1, "RLIMIT_FSIZE"},  {2, "RLIMIT_DATA"},    {3, "RLIMIT_STACK"},
    {4, "RLIMIT_CORE"},    {5, "RLIMIT_RSS"},    {6, "RLIMIT_NPROC"},   {7, "RLIMIT_NOFILE"},
    {8, "RLIMIT_MEMLOCK"}, {9, "RLIMIT_AS"},     {10, "RLIMIT_LOCKS"},  {11, "RLIMIT_SIGPENDING"},
    {12, "RLIMIT_MSGQUEUE"}, {13, "RLIMIT_NICE"}, {14, "RLIMIT_RTPRIO"}, {15, "RLIMIT_RTTIME"},
};
constexpr Named kArchPrctl[] = {{0x1001, "ARCH_SET_GS"}, {0x1002, "ARCH_SET_FS"}, {0x1003, "ARCH_GET_FS"},
                                {0x1004, "ARCH_GET_GS"}, {0x1011, "ARCH_GET_CPUID"}, {0x1012, "ARCH_SET_CPUID"},
                                {0x3001, "ARCH_CET_STATUS"}, {0x4001, "ARCH_SHSTK_ENABLE"}};
constexpr Named kFutexCmds[] = {
    {0, "FUTEX_WAIT"},       {1, "FUTEX_WAKE"},        {2, "FUTEX_FD"},          {3, "FUTEX_REQUEUE"},
    {4, "FUTEX_CMP_REQUEUE"}, {5, "FUTEX_WAKE_OP"},    {6, "FUTEX_LOCK_PI"},     {7, "FUTEX_UNLOCK_PI"},
    {8, "FUTEX_TRYLOCK_PI"}, {9, "FUTEX_WAIT_BITSET"}, {10, "FUTEX_WAKE_BITSET"}, {11, "FUTEX_WAIT_REQUEUE_PI"},
    {12, "FUTEX_CMP_REQUEUE_PI"}, {13, "FUTEX_LOCK_PI2"},
};
constexpr Named kPrctl[] = {
    {1, "PR_SET_PDEATHSIG"}, {2, "PR_GET_PDEATHSIG"}, {3, "PR_GET_DUMPABLE"}, {4, "PR_SET_DUMPABLE"},
    {15, "PR_SET_NAME"},     {16, "PR_GET_NAME"},     {22, "PR_SET_SECCOMP"}, {21, "PR_GET_SECCOMP"},
    {36, "PR_SET_CHILD_SUBREAPER"}, {38, "PR_SET_NO_NEW_PRIVS"}, {39, "PR_GET_NO_NEW_PRIVS"},
    {23, "PR_CAPBSET_READ"}, {24, "PR_CAPBSET_DROP"}, {47, "PR_CAP_AMBIENT"}, {0x59616d61, "PR_SET_PTRACER"},
    {35, "PR_SET_MM"},       {40, "PR_GET_TID_ADDRESS"}, {41, "PR_SET_THP_DISABLE"}, {42, "PR_GET_THP_DISABLE"},
    {8, "PR_SET_TIMING"},    {0x53564d41, "PR_SET_VMA"},
};
constexpr Named kGrnd[] = {{1, "GRND_NONBLOCK"}, {2, "GRND_RANDOM"}, {4, "GRND_INSECURE"}};
constexpr Named kRusageWho[] = {{0, "RUSAGE_SELF"}, {static_cast<uint64_t>(-1), "RUSAGE_CHILDREN"}, {1, "RUSAGE_THREAD"}};

std::string clone_flags(uint64_t f, bool with_signal) {
  uint64_t sig = with_signal ? (f & 0xff) : 0;
  std::string s = flags(f & ~0xffull & ~(with_signal ? 0ull : 0xffull), kCloneFlags, "");
  if (!with_signal && (f & 0xff)) s += std::string(s.empty() ? "" : "|") + fmt::format("{:#x}", f & 0xff);
  if (sig) s += std::string(s.empty() ? "" : "|") + signal_text(static_cast<int>(sig));
  return s.empty() ? "0" : s;
}

void execve_args(Ctx& c, int path, int argv, int envp) {
  c.push(c.path(path));
  const Blob* head = c.blob(argv);
  if (head && head->status == dune::trace_wire::kCapOk && head->bytes.size() == 4) {
    uint32_t h;
    std::memcpy(&h, head->bytes.data(), 4);
    Value arr = Value::array();
    for (uint32_t i = 0; i < (h & 0x7fffffff); ++i) {
      const Blob* b = c.blob(argv, static_cast<int>(i + 1));
      if (!b) break;
      bool cut = b->status == dune::trace_wire::kCapPartial || b->bytes.size() > static_cast<size_t>(c.style.string_limit);
      arr.add(Value::str(b->bytes.substr(0, static_cast<size_t>(c.style.string_limit)), cut));
    }
    arr.truncated = (h >> 31) != 0;
    c.push(std::move(arr));
  } else {
    c.push(c.ptr(argv));
  }
  Value env = c.ptr(envp);
  const Blob* count = c.blob(envp);
  if (count && count->status == dune::trace_wire::kCapOk && count->bytes.size() == 8) {
    // dunetrace's own variables (DUNE_TRACE, LD_PRELOAD naming the shim) are
    // not the program's: the count is the one it would have untraced.
    uint32_t n[2];
    std::memcpy(n, count->bytes.data(), 8);
    uint32_t vars = n[0] - (n[1] < n[0] ? n[1] : n[0]);
    env.comment = fmt::format("{} var{}", vars, vars == 1 ? "" : "s");
  }
  c.push(std::move(env));
}
void execve_(Ctx& c) { execve_args(c, 0, 1, 2); }
void execveat_(Ctx& c) {
  c.push(c.dirfd(0));
  execve_args(c, 1, 2, 3);
  static constexpr Named kExecAt[] = {{0x100, "AT_SYMLINK_NOFOLLOW"}, {0x1000, "AT_EMPTY_PATH"}};
  c.push(flags(c.arg(4), kExecAt));
}

void exit_(Ctx& c) { c.push(c.integer(0)); }

void clone_(Ctx& c) {
  // x86-64: flags, stack, parent_tid, child_tid, tls.
  uint64_t f = c.arg(0);
  c.push(Value::txt("child_stack=" + address(c.arg(1))));
  c.push(Value::txt("flags=" + clone_flags(f, true)));
  if (f & (0x100000 | 0x1000)) c.push(Value::txt("parent_tid=" + address(c.arg(2))));
  if (f & 0x80000) c.push(Value::txt("tls=" + c_hex(c.arg(4))));
  if (f & (0x1000000 | 0x200000)) c.push(Value::txt("child_tidptr=" + address(c.arg(3))));
}

void clone3_(Ctx& c) {
  const uint8_t* a = c.object(0, 64);
  if (!a) {
    c.push(c.ptr(0));
  } else {
    Value v = Value::record();
    uint64_t f = load<uint64_t>(a, 0);
    v.add("flags", Value::txt(clone_flags(f, false)));
    if (f & 0x1000) v.add("pidfd", Value::txt(address(load<uint64_t>(a, 8))));
    if (f & (0x1000000 | 0x200000)) v.add("child_tid", Value::txt(address(load<uint64_t>(a, 16))));
    if (f & 0x100000) v.add("parent_tid", Value::txt(address(load<uint64_t>(a, 24))));
    uint64_t sig = load<uint64_t>(a, 32);
    v.add("exit_signal", Value::txt(sig ? signal_text(static_cast<int>(sig)) : "0"));
    v.add("stack", Value::txt(address(load<uint64_t>(a, 40))));
    v.add("stack_size", Value::txt(c_hex(load<uint64_t>(a, 48))));
    if (f & 0x80000) v.add("tls", Value::txt(address(load<uint64_t>(a, 56))));
    // What the kernel wrote back: the child's tid at parent_tid.
    if ((f & 0x100000) && c.ok()) {
      Value out = Value::record();
      out.add("parent_tid", Value::array().add(Value::txt(fmt::format("{}", c.ret()))));
      c.push(Value::update(std::move(v), std::move(out)));
    } else {
      c.push(std::move(v));
    }
  }
  c.push(c.ulong(1));
}

std::string wait_status(int s) {
  if ((s & 0x7f) == 0) return fmt::format("[{{WIFEXITED(s) && WEXITSTATUS(s) == {}}}]", (s >> 8) & 0xff);
  if ((s & 0xff) == 0x7f) return fmt::format("[{{WIFSTOPPED(s) && WSTOPSIG(s) == {}}}]", signal_text((s >> 8) & 0xff));
  if (s == 0xffff) return "[{WIFCONTINUED(s)}]";
  return fmt::format("[{{WIFSIGNALED(s) && WTERMSIG(s) == {}{}}}]", signal_text(s & 0x7f),
                     (s & 0x80) ? " && WCOREDUMP(s)" : "");
}

void wait4_(Ctx& c) {
  c.push(c.integer(0));
  int st;
  c.push(c.ok() && c.ret() > 0 && c.read(1, &st) ? Value::txt(wait_status(st)) : c.ptr(1));
  c.push(flags(c.arg(2), kWaitOptions));
  c.push(c.ptr(3));
}

std::string rlim_text(uint64_t v) {
  if (v == ~0ull) return "RLIM64_INFINITY";
  if (v > 1024 && v % 1024 == 0) return fmt::format("{}*1024", v / 1024);
  return std::to_string(v);
}
Value rlimit_value(Ctx& c, int i, bool out) {
  uint64_t r[2];
  if ((out && !c.ok()) || !c.read(i, &r)) return c.ptr(i);
  Value v = Value::record();
  v.add("rlim_cur", Value::txt(rlim_text(r[0])));
  v.add("rlim_max", Value::txt(rlim_text(r[1])));
  return v;
}
void prlimit64_(Ctx& c) {
  c.push(c.integer(0));
  c.push(xlat(c.arg(1), kRlimits, "RLIMIT_", false));
  c.push(rlimit_value(c, 2, false));
  c.push(rlimit_value(c, 3, true));
}
void getrlimit_(Ctx& c) {
  c.push(xlat(c.arg(0), kRlimits, "RLIMIT_", false));
  c.push(rlimit_value(c, 1, true));
}
void setrlimit_(Ctx& c) {
  c.push(xlat(c.arg(0), kRlimits, "RLIMIT_", false));
  c.push(rlimit_value(c, 1, false));
}

void set_tid_address_(Ctx& c) { c.push(c.ptr(0)); }
void set_robust_list_(Ctx& c) {
  c.push(c.ptr(0));
  c.push(c.ulong(1));
}
void rseq_(Ctx& c) {
  c.push(c.ptr(0));
  c.push(c.hex(1));
  c.push(c.integer(2));
  c.push(c.hex(3));
}
void arch_prctl_(Ctx& c) {
  c.push(xlat(c.arg(0), kArchPrctl, "ARCH_"));
  c.push(c.hex(1));
}
void prctl_(Ctx& c) {
  uint64_t op = c.arg(0) & 0xffffffff;
  c.push(xlat(op, kPrctl, "PR_", false));
  if (op == 15) {  // PR_SET_NAME
    c.push(c.string(1));
    return;
  }
  if (op == 3 || op == 21 || op == 39 || op == 42) return;
  for (int i = 1; i < 5; ++i) c.push(c.arg(i) < 0x10000 ? c.ulong(i) : c.hex(i));
}

void futex_(Ctx& c) {
  uint64_t op = c.arg(1) & 0xffffffff;
  uint64_t cmd = op & 0x7f;
  std::string name = xlat(cmd, kFutexCmds, "FUTEX_");
  if (op & 128) name += "_PRIVATE";
  if (op & 256) name += "|FUTEX_CLOCK_REALTIME";
  c.push(c.ptr(0));
  c.push(name);
  c.push(c.integer(2));
  auto timeout = [&] {
    const uint8_t* ts = c.arg(3) ? c.object(3, 16) : nullptr;
    return ts ? timespec_value(ts) : c.ptr(3);
  };
  switch (cmd) {
    case 0:  // WAIT
      c.push(timeout());
      break;
    case 9:  // WAIT_BITSET: no second address
      c.push(timeout());
      c.push(static_cast<uint32_t>(c.arg(5)) == 0xffffffffu ? std::string("FUTEX_BITSET_MATCH_ANY")
                                                             : c_hex(c.arg(5)));
      break;
    case 10:  // WAKE_BITSET
      c.push(c.ptr(3));
      c.push(c.ptr(4));
      c.push(static_cast<uint32_t>(c.arg(5)) == 0xffffffffu ? std::string("FUTEX_BITSET_MATCH_ANY")
                                                             : c_hex(c.arg(5)));
      break;
    case 3:
    case 4:
      c.push(c.ulong(3));
      c.push(c.ptr(4));
      if (cmd == 4) c.push(c.integer(5));
      break;
    case 5:
      c.push(c.ulong(3));
      c.push(c.ptr(4));
      c.push(c.hex(5));
      break;
    default: break;
  }
}

void getrandom_(Ctx& c) {
  // strace shows random bytes in hex escapes.
  Value v = c.filled(0);
  if (v.kind == Value::kString) {
    size_t n = v.text.size() > static_cast<size_t>(c.style.string_limit) ? static_cast<size_t>(c.style.string_limit)
                                                                          : v.text.size();
    std::string hexed = "\"";
    for (size_t i = 0; i < n; ++i) hexed += fmt::format("\\x{:02x}", static_cast<unsigned char>(v.text[i]));
    hexed += "\"";
    if (v.truncated || n < v.text.size()) hexed += "...";
    v = Value::txt(hexed);
  }
  c.push(std::move(v));
  c.push(c.ulong(1));
  c.push(flags(c.arg(2), kGrnd));
}

void uname_(Ctx& c) {
  const uint8_t* u = c.ok() ? c.object(0, 130) : nullptr;
  if (!u) {
    c.push(c.ptr(0));
    return;
  }
  Value v = Value::record();
  auto field = [&](size_t off) {
    std::string s(reinterpret_cast<const char*>(u + off), 65);
    s.resize(s.find('\0') == std::string::npos ? 65 : s.find('\0'));
    return Value::str(s);
  };
  v.add("sysname", field(0));
  v.add("nodename", field(65));
  v.truncated = true;
  c.push(std::move(v));
}

void sysinfo_(Ctx& c) {
  const uint8_t* s = c.ok() ? c.object(0, 112) : nullptr;
  if (!s) {
    c.push(c.ptr(0));
    return;
  }
  Value v = Value::record();
  v.add("uptime", Value::txt(std::to_string(load<int64_t>(s, 0))));
  Value loads = Value::array();
  for (int i = 0; i < 3; ++i) loads.add(Value::txt(std::to_string(load<uint64_t>(s, 8 + 8 * i))));
  v.add("loads", std::move(loads));
  const char* names[] = {"totalram", "freeram", "sharedram", "bufferram", "totalswap", "freeswap"};
  for (int i = 0; i < 6; ++i) v.add(names[i], Value::txt(std::to_string(load<uint64_t>(s, 32 + 8 * i))));
  v.add("procs", Value::txt(std::to_string(load<uint16_t>(s, 80))));
  v.add("totalhigh", Value::txt(std::to_string(load<uint64_t>(s, 88))));
  v.add("freehigh", Value::txt(std::to_string(load<uint64_t>(s, 96))));
  v.add("mem_unit", Value::txt(std::to_string(load<uint32_t>(s, 104))));
  c.push(std::move(v));
}

void getrusage_(Ctx& c) {
  c.push(xlat(static_cast<uint64_t>(static_cast<int64_t>(c.iarg(0))), kRusageWho, "RUSAGE_", false));
  const uint8_t* r = c.ok() ? c.object(1, 144) : nullptr;
  if (!r) {
    c.push(c.ptr(1));
    return;
  }
  Value v = Value::record();
  v.add("ru_utime", timeval_value(r));
  v.add("ru_stime", timeval_value(r + 16));
  v.truncated = true;
  c.push(std::move(v));
}

void sched_getaffinity_(Ctx& c) {
  c.push(c.integer(0));
  c.push(c.ulong(1));
  const Blob* b = c.ok() ? c.blob(2) : nullptr;
  if (!b || b->status != dune::trace_wire::kCapOk) {
    c.push(c.ptr(2));
    return;
  }
  Value arr = Value::array();
  for (size_t i = 0; i < b->bytes.size() * 8; ++i)
    if ((static_cast<unsigned char>(b->bytes[i / 8]) >> (i % 8)) & 1) arr.add(Value::txt(std::to_string(i)));
  c.push(std::move(arr));
}

void one_int(Ctx& c) { c.push(c.integer(0)); }
void two_ints(Ctx& c) {
  c.push(c.integer(0));
  c.push(c.integer(1));
}
void three_ints(Ctx& c) {
  two_ints(c);
  c.push(c.integer(2));
}

}  // namespace

const DecoderEntry kProcessDecoders[] = {
    {SYS_execve, execve_},         {SYS_execveat, execveat_},       {SYS_exit, exit_},
    {SYS_exit_group, exit_},       {SYS_clone, clone_},             {SYS_clone3, clone3_},
    {SYS_wait4, wait4_},           {SYS_prlimit64, prlimit64_},     {SYS_getrlimit, getrlimit_},
    {SYS_setrlimit, setrlimit_},   {SYS_set_tid_address, set_tid_address_},
    {SYS_set_robust_list, set_robust_list_}, {SYS_rseq, rseq_},     {SYS_arch_prctl, arch_prctl_},
    {SYS_prctl, prctl_},           {SYS_futex, futex_},             {SYS_getrandom, getrandom_},
    {SYS_uname, uname_},           {SYS_sysinfo, sysinfo_},         {SYS_getrusage, getrusage_},
    {SYS_sched_getaffinity, sched_getaffinity_}, {SYS_setuid, one_int}, {SYS_setgid, one_int},
    {SYS_setpgid, two_ints},       {SYS_getpgid, one_int},          {SYS_getsid, one_int},
    {SYS_setreuid, two_ints},      {SYS_setregid, two_ints},        {SYS_setresuid, three_ints},
    {SYS_setresgid, three_ints},   {SYS_setfsuid, one_int},         {SYS_setfsgid, one_int},
};
const size_t kProcessDecodersCount = sizeof kProcessDecoders / sizeof kProcessDecoders[0];

}  // namespace dunetrace::decode
