// decode_misc.cpp - ioctl, polling, event descriptors, inotify, and process odds
// and ends (personality, times, getcpu, membarrier).
#include <fmt/format.h>
#include <sys/syscall.h>

#include "decoder.h"

namespace dunetrace::decode {

namespace {

constexpr Named kIoctls[] = {
    {0x5401, "TCGETS"},     {0x5402, "TCSETS"},     {0x5403, "TCSETSW"},    {0x5404, "TCSETSF"},
    {0x5409, "TCSBRK"},     {0x540b, "TCFLSH"},     {0x540e, "TIOCSCTTY"},  {0x540f, "TIOCGPGRP"},
    {0x5410, "TIOCSPGRP"},  {0x5413, "TIOCGWINSZ"}, {0x5414, "TIOCSWINSZ"}, {0x541b, "FIONREAD"},
    {0x5421, "FIONBIO"},    {0x5422, "TIOCNOTTY"},  {0x5429, "TIOCGSID"},   {0x5450, "FIONCLEX"},
    {0x5451, "FIOCLEX"},    {0x5452, "FIOASYNC"},   {0x80045430, "TIOCGPTN"}, {0x40045431, "TIOCSPTLCK"},
    {0x80086601, "FS_IOC_GETFLAGS"}, {0x40086602, "FS_IOC_SETFLAGS"}, {0x5460, "FIOQSIZE"},
};
constexpr Named kPollEvents[] = {
    {1, "POLLIN"},        {2, "POLLPRI"},      {4, "POLLOUT"},      {8, "POLLERR"},
    {0x10, "POLLHUP"},    {0x20, "POLLNVAL"},  {0x40, "POLLRDNORM"}, {0x80, "POLLRDBAND"},
    {0x100, "POLLWRNORM"}, {0x200, "POLLWRBAND"}, {0x400, "POLLMSG"}, {0x2000, "POLLRDHUP"},
};
constexpr Named kSpeeds[] = {
    {0, "B0"},        {1, "B50"},      {2, "B75"},      {3, "B110"},     {4, "B134"},    {5, "B150"},
    {6, "B200"},      {7, "B300"},     {8, "B600"},     {9, "B1200"},    {10, "B1800"},  {11, "B2400"},
    {12, "B4800"},    {13, "B9600"},   {14, "B19200"},  {15, "B38400"},  {010001, "B57600"},
    {010002, "B115200"}, {010003, "B230400"}, {010004, "B460800"},
};
constexpr Named kEpollCtl[] = {{1, "EPOLL_CTL_ADD"}, {2, "EPOLL_CTL_DEL"}, {3, "EPOLL_CTL_MOD"}};
constexpr Named kEpollCreate[] = {{02000000, "EPOLL_CLOEXEC"}};
constexpr Named kEpollEvents[] = {
    {1, "EPOLLIN"},        {2, "EPOLLPRI"},       {4, "EPOLLOUT"},        {8, "EPOLLERR"},
    {0x10, "EPOLLHUP"},    {0x20, "EPOLLNVAL"},   {0x40, "EPOLLRDNORM"},  {0x80, "EPOLLRDBAND"},
    {0x100, "EPOLLWRNORM"}, {0x200, "EPOLLWRBAND"}, {0x400, "EPOLLMSG"},  {0x2000, "EPOLLRDHUP"},
    {1u << 28, "EPOLLEXCLUSIVE"}, {1u << 29, "EPOLLWAKEUP"}, {1u << 30, "EPOLLONESHOT"}, {1u << 31, "EPOLLET"},
};
constexpr Named kEfd[] = {{1, "EFD_SEMAPHORE"}, {02000000, "EFD_CLOEXEC"}, {04000, "EFD_NONBLOCK"}};
constexpr Named kInotify[] = {{02000000, "IN_CLOEXEC"}, {04000, "IN_NONBLOCK"}};

std::string ioctl_name(uint64_t req) {
  for (const Named& n : kIoctls)
    if (n.value == req) return n.name;
  uint32_t dir = (req >> 30) & 3, type = (req >> 8) & 0xff, nr = req & 0xff, size = (req >> 16) & 0x3fff;
  if (dir == 0 && size == 0) return fmt::format("{:#x}", req);
  static const char* const kDir[] = {"_IOC_NONE", "_IOC_WRITE", "_IOC_READ", "_IOC_READ|_IOC_WRITE"};
  return fmt::format("_IOC({}, {}, {}, {})", kDir[dir], c_hex(type), c_hex(nr), c_hex(size));
}

void ioctl_(Ctx& c) {
  uint64_t req = c.arg(1) & 0xffffffff;
  c.push(c.fd(0));
  c.push(ioctl_name(req));
  if (req == 0x5401 && c.ok()) {
    const uint8_t* t = c.object(2, 36);
    if (t) {
      uint32_t oflag = load<uint32_t>(t, 4), cflag = load<uint32_t>(t, 8), lflag = load<uint32_t>(t, 12);
      std::string s = "{" + xlat(cflag & 010017, kSpeeds);
      if (oflag & 1) s += " opost";
      if (lflag & 1) s += " isig";
      if (lflag & 2) s += " icanon";
      if (lflag & 010) s += " echo";
      c.push(s + " ...}");
      return;
    }
  }
  if ((req == 0x5413 && c.ok()) || req == 0x5414) {
    const uint8_t* w = c.object(2, 8);
    if (w) {
      c.push(fmt::format("{{ws_row={}, ws_col={}, ws_xpixel={}, ws_ypixel={}}}", load<uint16_t>(w, 0), load<uint16_t>(w, 2),
                         load<uint16_t>(w, 4), load<uint16_t>(w, 6)));
      return;
    }
  }
  if (req == 0x5450 || req == 0x5451 || req == 0x5422) return;  // no argument
  if (req == 0x5421) {
    c.push(c.ptr(2));
    return;
  }
  c.push(c.arg(2) < 0x10000 ? c.ulong(2) : c.ptr(2));
}

void poll_(Ctx& c) {
  const Blob* b = c.blob(0);
  uint64_t n = c.arg(1);
  if (!b || b->status != dune::trace_wire::kCapOk) {
    c.push(c.ptr(0));
  } else {
    Value arr = Value::array();
    Value ready = Value::array();
    size_t k = b->bytes.size() / 8;
    for (size_t i = 0; i < k; ++i) {
      const auto* p = reinterpret_cast<const uint8_t*>(b->bytes.data()) + 8 * i;
      int fd = load<int32_t>(p, 0);
      Value e = Value::record();
      e.add("fd", Value::txt(std::to_string(fd)));
      e.add("events", Value::txt(flags(load<uint16_t>(p, 4), kPollEvents)));
      arr.add(std::move(e));
      if (uint16_t rev = load<uint16_t>(p, 6); rev && c.ok()) {
        Value r = Value::record();
        r.add("fd", Value::txt(std::to_string(fd)));
        r.add("revents", Value::txt(flags(rev, kPollEvents)));
        ready.add(std::move(r));
      }
    }
    arr.truncated = k < n;
    c.push(std::move(arr));
    if (c.ok() && c.ret() > 0) c.note("(" + render_text(ready, c.style.string_limit) + ")");
  }
  c.push(c.ulong(1));
  if (c.ok() && c.ret() == 0) c.note("(Timeout)");
}
void poll_timeout(Ctx& c) {
  poll_(c);
  c.push(c.integer(2));
}
void ppoll_(Ctx& c) {
  poll_(c);
  const uint8_t* ts = c.arg(2) ? c.object(2, 16) : nullptr;
  c.push(ts ? timespec_value(ts) : c.ptr(2));
  c.push(c.ptr(3));
  c.push(c.ulong(4));
}

void epoll_create1_(Ctx& c) {
  c.push(flags(c.arg(0), kEpollCreate));
}
// struct epoll_event, packed on x86-64: events, then 8 bytes of data.
Value epoll_event_value(const uint8_t* e) {
  uint64_t data = load<uint64_t>(e, 4);
  Value v = Value::record();
  v.add("events", Value::txt(flags(load<uint32_t>(e, 0), kEpollEvents)));
  v.add("data", Value::txt(fmt::format("{{u32={}, u64={}}}", static_cast<uint32_t>(data), data)));
  return v;
}
void epoll_ctl_(Ctx& c) {
  c.push(c.fd(0));
  c.push(xlat(c.arg(1), kEpollCtl, "EPOLL_CTL_"));
  c.push(c.fd(2));
  const uint8_t* e = c.arg(1) != 2 ? c.object(3, 12) : nullptr;
  c.push(e ? epoll_event_value(e) : c.ptr(3));
}
void epoll_wait_(Ctx& c) {
  c.push(c.fd(0));
  const Blob* b = c.ok() ? c.blob(1) : nullptr;
  if (c.ok() && c.ret() == 0) {
    c.push(Value::array());
  } else if (b && b->status == dune::trace_wire::kCapOk) {
    Value arr = Value::array();
    size_t n = b->bytes.size() / 12;
    for (size_t i = 0; i < n; ++i)
      arr.add(epoll_event_value(reinterpret_cast<const uint8_t*>(b->bytes.data()) + 12 * i));
    arr.truncated = n < static_cast<size_t>(c.ret());
    c.push(std::move(arr));
  } else {
    c.push(c.ptr(1));
  }
  c.push(c.integer(2));
  c.push(c.integer(3));
}
void epoll_pwait_(Ctx& c) {
  epoll_wait_(c);
  c.push(c.ptr(4));
  c.push(c.ulong(5));
}
void eventfd2_(Ctx& c) {
  c.push(c.ulong(0));
  c.push(flags(c.arg(1), kEfd));
}
void inotify_init1_(Ctx& c) {
  c.push(flags(c.arg(0), kInotify));
}

constexpr Named kInotifyMask[] = {
    {0x1, "IN_ACCESS"},         {0x2, "IN_MODIFY"},        {0x4, "IN_ATTRIB"},       {0x8, "IN_CLOSE_WRITE"},
    {0x10, "IN_CLOSE_NOWRITE"}, {0x20, "IN_OPEN"},         {0x40, "IN_MOVED_FROM"},  {0x80, "IN_MOVED_TO"},
    {0x100, "IN_CREATE"},       {0x200, "IN_DELETE"},      {0x400, "IN_DELETE_SELF"}, {0x800, "IN_MOVE_SELF"},
    {0x2000, "IN_UNMOUNT"},     {0x4000, "IN_Q_OVERFLOW"}, {0x8000, "IN_IGNORED"},   {0x1000000, "IN_ONLYDIR"},
    {0x2000000, "IN_DONT_FOLLOW"}, {0x4000000, "IN_EXCL_UNLINK"}, {0x10000000, "IN_MASK_CREATE"},
    {0x20000000, "IN_MASK_ADD"}, {0x40000000, "IN_ISDIR"}, {0x80000000, "IN_ONESHOT"},
};
void inotify_add_watch_(Ctx& c) {
  c.push(c.fd(0));
  c.push(c.path(1));
  c.push(flags(c.arg(2) & 0xffffffff, kInotifyMask));
}
void inotify_rm_watch_(Ctx& c) {
  c.push(c.fd(0));
  c.push(c.integer(1));
}

constexpr Named kPersonalityFlags[] = {
    {0x0020000, "UNAME26"},          {0x0040000, "ADDR_NO_RANDOMIZE"}, {0x0080000, "FDPIC_FUNCPTRS"},
    {0x0100000, "MMAP_PAGE_ZERO"},   {0x0200000, "ADDR_COMPAT_LAYOUT"}, {0x0400000, "READ_IMPLIES_EXEC"},
    {0x0800000, "ADDR_LIMIT_32BIT"}, {0x1000000, "SHORT_INODE"},       {0x2000000, "WHOLE_SECONDS"},
    {0x4000000, "STICKY_TIMEOUTS"},  {0x8000000, "ADDR_LIMIT_3GB"},
};
constexpr Named kPersonas[] = {{0, "PER_LINUX"}, {8, "PER_LINUX32"}, {0x10, "PER_BSD"}};
// "PER_LINUX|ADDR_NO_RANDOMIZE"
std::string persona_text(uint64_t v) {
  std::string s = xlat(v & 0xff, kPersonas, nullptr, true);
  std::string f = flags(v & ~0xffull, kPersonalityFlags, "");
  return f.empty() ? s : s + "|" + f;
}
void personality_(Ctx& c) {
  // 0xffffffff asks for the persona without setting one: strace shows it as is.
  auto v = static_cast<uint32_t>(c.arg(0));
  c.push(v == 0xffffffffu ? std::string("0xffffffff") : persona_text(v));
  if (c.ok()) {
    c.result(ResultStyle::kHex);
    c.note("(" + persona_text(static_cast<uint64_t>(c.ret())) + ")");
  }
}
void times_(Ctx& c) {
  const uint8_t* t = c.ok() && c.arg(0) ? c.object(0, 32) : nullptr;
  if (!t) {
    c.push(c.ptr(0));
    return;
  }
  Value v = Value::record();
  const char* names[] = {"tms_utime", "tms_stime", "tms_cutime", "tms_cstime"};
  for (int k = 0; k < 4; ++k) v.add(names[k], Value::txt(std::to_string(load<int64_t>(t, 8 * k))));
  c.push(std::move(v));
}
void getcpu_(Ctx& c) {
  for (int i = 0; i < 2; ++i) {
    uint32_t v;
    if (c.ok() && c.arg(i) && c.read(i, &v))
      c.push(Value::array().add(Value::txt(std::to_string(v))));
    else
      c.push(c.ptr(i));
  }
  c.push(c.ptr(2));
}
constexpr Named kMembarrier[] = {
    {0x1, "MEMBARRIER_CMD_GLOBAL"},
    {0x2, "MEMBARRIER_CMD_GLOBAL_EXPEDITED"},
    {0x4, "MEMBARRIER_CMD_REGISTER_GLOBAL_EXPEDITED"},
    {0x8, "MEMBARRIER_CMD_PRIVATE_EXPEDITED"},
    {0x10, "MEMBARRIER_CMD_REGISTER_PRIVATE_EXPEDITED"},
    {0x20, "MEMBARRIER_CMD_PRIVATE_EXPEDITED_SYNC_CORE"},
    {0x40, "MEMBARRIER_CMD_REGISTER_PRIVATE_EXPEDITED_SYNC_CORE"},
    {0x80, "MEMBARRIER_CMD_PRIVATE_EXPEDITED_RSEQ"},
    {0x100, "MEMBARRIER_CMD_REGISTER_PRIVATE_EXPEDITED_RSEQ"},
};
void membarrier_(Ctx& c) {
  c.push(c.arg(0) == 0 ? std::string("MEMBARRIER_CMD_QUERY") : xlat(c.arg(0), kMembarrier, "MEMBARRIER_CMD_"));
  c.push(c.integer(1));
  if (c.arg(0) == 0 && c.ok() && c.ret() > 0) {
    // The query's answer: the commands this kernel has.
    c.result(ResultStyle::kHex);
    c.note("(" + flags(static_cast<uint64_t>(c.ret()), kMembarrier) + ")");
  }
}

}  // namespace

const DecoderEntry kMiscDecoders[] = {
    {SYS_inotify_add_watch, inotify_add_watch_}, {SYS_inotify_rm_watch, inotify_rm_watch_},
    {SYS_personality, personality_}, {SYS_times, times_}, {SYS_getcpu, getcpu_},
    {SYS_membarrier, membarrier_},
    {SYS_ioctl, ioctl_},           {SYS_poll, poll_timeout},     {SYS_ppoll, ppoll_},
    {SYS_epoll_create1, epoll_create1_}, {SYS_epoll_ctl, epoll_ctl_}, {SYS_epoll_wait, epoll_wait_},
    {SYS_epoll_pwait, epoll_pwait_},
    {SYS_eventfd2, eventfd2_},     {SYS_inotify_init1, inotify_init1_},
};
const size_t kMiscDecodersCount = sizeof kMiscDecoders / sizeof kMiscDecoders[0];

}  // namespace dunetrace::decode
