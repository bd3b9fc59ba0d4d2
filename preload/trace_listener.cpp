// The listener runs on the host side of the thread an event is about, with
// the guest stopped: no malloc, no stdio, no errno (raw syscalls only), a
// record on the stack, atomics for the summary. It never harms the program:
// when dunetrace is gone, sends fail (MSG_NOSIGNAL: no SIGPIPE) and tracing
// stops quietly.
#include "trace_listener.h"

#include <dune/trace.h>
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/un.h>

#include <atomic>
#include <cerrno>
#include <cstring>

#include "base/log.h"
#include "base/own_fds.h"
#include "base/own_mappings.h"
#include "base/raw_syscall.h"
#include "entry_captures.h"
#include "runtime/guest_memory.h"
#include "syscall_capture.h"
#include "syscalls/fd_args.h"
#include "trace_config.h"
#include "trace_protocol.h"
#include "trace_ring.h"

namespace dune {

namespace {

using trace_wire::SummaryTable;
using trace_wire::TraceRecord;

// Constant-initialized: the shim's constructor runs before dynamic initializers.
constinit TraceConfig g_config;
constinit int g_socket = -1;  // the own_fds name of the connection
constinit SummaryTable* g_summary = nullptr;
constinit std::atomic<bool> g_gone{false};  // dunetrace went away
constinit void* g_ring = nullptr;  // the connection's ring (trace_ring.h); shared with forked children

long raw_close(int fd) { return sys::close(fd); }

bool passes(const dune_event& ev) {
  switch (ev.kind) {
    case DUNE_EV_SYSCALL: return g_config.syscall_passes(static_cast<long>(ev.u.syscall.nr));
    case DUNE_EV_VMEXIT: return g_config.exit_passes(ev.u.vmexit.exit_kind);
    case DUNE_EV_SIGNAL: return g_config.signal_passes(ev.u.signal.signo);
    default: return true;
  }
}

void add_to_summary(const dune_event& ev) {
  SummaryTable& s = *g_summary;
  switch (ev.kind) {
    case DUNE_EV_SYSCALL: {
      int64_t nr = ev.u.syscall.nr;
      if (nr >= 0 && nr < trace_wire::kMaxSyscall) {
        int64_t ret = ev.u.syscall.ret;
        s.syscalls[nr].add(ev.cycles, ret < 0 && ret >= -4095);
      }
      break;
    }
    case DUNE_EV_VMEXIT:
      if (ev.u.vmexit.exit_kind < trace_wire::kMaxExitKind) s.exits[ev.u.vmexit.exit_kind].add(ev.cycles, false);
      break;
    case DUNE_EV_FAULT:
      if (ev.u.fault.vector < 32) s.faults[ev.u.fault.vector].fetch_add(1, std::memory_order_relaxed);
      break;
    case DUNE_EV_HOSTFAULT: s.host_faults.fetch_add(1, std::memory_order_relaxed); break;
    case DUNE_EV_BADSTACK: s.bad_stacks.fetch_add(1, std::memory_order_relaxed); break;
    case DUNE_EV_SIGNAL:
      if (ev.u.signal.signo > 0 && ev.u.signal.signo <= trace_wire::kMaxSignal)
        s.signals[ev.u.signal.signo].fetch_add(1, std::memory_order_relaxed);
      break;
    case DUNE_EV_THREAD:
      if (ev.u.thread.started) (ev.u.thread.process ? s.processes : s.threads).fetch_add(1, std::memory_order_relaxed);
      break;
    default: break;
  }
}

// The image's last event: exit_group, a death the library reports, an exec.
bool ends_image(const dune_event& ev) {
  return ev.kind == DUNE_EV_EXEC || (ev.kind == DUNE_EV_THREAD && ev.u.thread.process && !ev.u.thread.started);
}

// Events dunetrace must see with the thread stopped: to unwind its stack, or
// to read the process's mappings before it can die or unmap them. An image's
// end waits so that the events sent before it, which dunetrace reads in order
// on this connection, are symbolized while the image's mappings are there:
// one wait per image, none per syscall.
bool needs_ack(const dune_event& ev) {
  if (g_config.stack_depth > 0 && ev.regs) return true;
  if (ends_image(ev)) return true;
  switch (ev.kind) {
    case DUNE_EV_FAULT: return ev.u.fault.outcome != DUNE_FAULT_RESOLVED;
    case DUNE_EV_HOSTFAULT:
    case DUNE_EV_BADSTACK:
    case DUNE_EV_SIGNAL: return true;
    default: return false;
  }
}

bool gone(long r) {
  if (r >= 0) return false;
  // The connection broke: dunetrace ended. The program goes on untraced.
  g_gone.store(true, std::memory_order_relaxed);
  return true;
}

void send_plain(int fd, const TraceRecord& rec, size_t len) {
  long r;
  do {
    r = sys::syscall6(SYS_sendto, fd, reinterpret_cast<long>(&rec), static_cast<long>(len), MSG_NOSIGNAL, 0, 0);
  } while (r == -EINTR);
  gone(r);
}

// Sends rec with fd passed along (SCM_RIGHTS).
long send_with_fd(int sock, const TraceRecord& rec, size_t len, int fd) {
  iovec iov{const_cast<TraceRecord*>(&rec), len};
  alignas(cmsghdr) char control[CMSG_SPACE(sizeof(int))] = {};
  msghdr msg{};
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  msg.msg_control = control;
  msg.msg_controllen = sizeof control;
  cmsghdr* cm = CMSG_FIRSTHDR(&msg);
  cm->cmsg_level = SOL_SOCKET;
  cm->cmsg_type = SCM_RIGHTS;
  cm->cmsg_len = CMSG_LEN(sizeof(int));
  std::memcpy(CMSG_DATA(cm), &fd, sizeof(int));
  long r;
  do {
    r = sys::syscall6(SYS_sendmsg, sock, reinterpret_cast<long>(&msg), MSG_NOSIGNAL);
  } while (r == -EINTR);
  return r;
}

// Sends rec with one end of a socket pair and waits on the other until
// dunetrace answers or drops it.
void send_and_wait(int fd, TraceRecord& rec, size_t len) {
  int pair[2];
  if (sys::syscall6(SYS_socketpair, AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, reinterpret_cast<long>(pair)) != 0) {
    rec.flags &= ~trace_wire::kWantsAck;
    send_plain(fd, rec, len);
    return;
  }
  long r = send_with_fd(fd, rec, len, pair[1]);
  raw_close(pair[1]);
  if (!gone(r)) {
    char answer;
    do {
      r = sys::syscall6(SYS_recvfrom, pair[0], reinterpret_cast<long>(&answer), 1, 0, 0, 0);
    } while (r == -EINTR);
  }
  raw_close(pair[0]);
}

// Puts rec (len bytes with what follows it) in the ring; false if it has to
// go on the socket. A full ring is emptied first: dunetrace answers the
// request once it has taken every record (one wait per kRingSlots records).
bool put_in_ring(int fd, const TraceRecord& rec, size_t len) {
  using trace_wire::RingPut;
  RingPut p = trace_wire::ring_put(g_ring, &rec, len);
  if (p == RingPut::kFull) {
    TraceRecord full;
    full.event = {};
    std::memset(&full.regs, 0, sizeof full.regs);
    full.flags = trace_wire::kRingFull | trace_wire::kWantsAck;
    send_and_wait(fd, full, sizeof full);
    // Still full (a record of this thread's, interrupted, holds dunetrace up): the socket.
    p = trace_wire::ring_put(g_ring, &rec, len);
  }
  return p == RingPut::kDone;
}

// The connection's ring, passed to dunetrace; without one every record goes
// on the socket.
void make_ring(int sock) {
  long fd = sys::syscall6(SYS_memfd_create, reinterpret_cast<long>("dunetrace-ring"), MFD_CLOEXEC);
  if (fd < 0) return;
  long mem = -1;
  if (sys::syscall6(SYS_ftruncate, fd, static_cast<long>(trace_wire::kRingBytes)) == 0)
    mem = sys::mmap(nullptr, trace_wire::kRingBytes, PROT_READ | PROT_WRITE, MAP_SHARED, static_cast<int>(fd), 0);
  if (!sys::is_error(mem)) {
    trace_wire::ring_init(reinterpret_cast<void*>(mem), trace_wire::kVersion);
    TraceRecord hello;
    hello.event = {};
    std::memset(&hello.regs, 0, sizeof hello.regs);
    hello.flags = trace_wire::kRingHello;
    if (send_with_fd(sock, hello, sizeof hello, static_cast<int>(fd)) >= 0) {
      // The library's memory, not the program's: never mirrored into the guest.
      own_mappings::add(static_cast<uint64_t>(mem), static_cast<uint64_t>(mem) + trace_wire::kRingBytes);
      g_ring = reinterpret_cast<void*>(mem);
    } else {
      sys::munmap(reinterpret_cast<void*>(mem), trace_wire::kRingBytes);
    }
  }
  raw_close(static_cast<int>(fd));
}

bool read_guest(uint64_t addr, void* dst, size_t n) { return copy_from_guest(dst, addr, n); }

// "/proc/self/fd/N" -> the file, as a blob (nothing when it has none).
size_t put_fd_path(int arg, long fd, uint8_t* area, size_t room) {
  using trace_wire::BlobHeader;
  if (fd < 0 || fd > 0x7fffffff || room < sizeof(BlobHeader) + 1) return 0;
  char link[32] = "/proc/self/fd/";
  char digits[12];
  int n = 0;
  do digits[n++] = static_cast<char>('0' + fd % 10); while ((fd /= 10) > 0);
  size_t at = 14;
  while (n > 0) link[at++] = digits[--n];
  link[at] = 0;
  size_t cap = room - sizeof(BlobHeader);
  if (cap > trace_wire::kPathMax) cap = trace_wire::kPathMax;
  long got = sys::syscall6(SYS_readlinkat, AT_FDCWD, reinterpret_cast<long>(link),
                           reinterpret_cast<long>(area + sizeof(BlobHeader)), static_cast<long>(cap));
  if (got <= 0) return 0;
  BlobHeader h{static_cast<uint8_t>(arg), trace_wire::kFdPathSub, trace_wire::kCapOk, 0, static_cast<uint32_t>(got)};
  std::memcpy(area, &h, sizeof h);
  return sizeof h + static_cast<size_t>(got);
}

// The memory a syscall's line shows (and with -y its descriptors' files),
// copied now, while the thread waits: the string the call saw.
uint32_t capture_syscall(const dune_event& ev, uint8_t* area, size_t room) {
  const auto& sc = ev.u.syscall;
  trace_wire::CaptureItem items[trace_wire::kMaxCaptureItems];
  auto limit = static_cast<uint32_t>(g_config.string_limit);
  int n = trace_wire::capture_plan(static_cast<long>(sc.nr), sc.args, sc.ret, limit, items);
  uint64_t sp = ev.regs ? ev.regs->rsp : 0;  // the registers at the syscall
  size_t used = trace_wire::run_capture(items, n, sc.args, limit, read_guest, area, room, sp);
  // What its in-out arguments held before it ran (kept at its entry event).
  if (ev.kind == DUNE_EV_SYSCALL && trace_wire::wants_entry(static_cast<long>(sc.nr)))
    used += entry_captures::take(ev.tid, static_cast<long>(sc.nr), sc.args, area + used, room - used);
  if (g_config.fd_paths) {
    FdSpec spec = fd_spec(static_cast<long>(sc.nr));
    for (int i = 0; i < 6; ++i) {
      bool is_fd = (spec.fds >> i) & 1;
      for (int k = 0; k < 2; ++k) is_fd = is_fd || spec.dir[k] == i;
      if (is_fd && static_cast<int>(sc.args[i]) != AT_FDCWD)
        used += put_fd_path(i, static_cast<int>(sc.args[i]), area + used, room - used);
    }
    if (ev.kind == DUNE_EV_SYSCALL && sc.ret >= 0 && trace_wire::returns_fd(static_cast<long>(sc.nr), sc.args))
      used += put_fd_path(trace_wire::kResultArg, sc.ret, area + used, room - used);
  }
  return static_cast<uint32_t>(used);
}

// A record and what follows it in its message.
struct Message {
  TraceRecord rec;
  uint8_t area[trace_wire::kCaptureRoom];
};

// Sends rec, len bytes with what follows it, once it holds the event.
void send_event(const dune_event* ev, TraceRecord& rec, size_t len) {
  rec.event = *ev;
  rec.event.regs = nullptr;
  if (ev->regs) {
    rec.regs = *ev->regs;
    rec.flags |= trace_wire::kHasRegs;
  } else {
    std::memset(&rec.regs, 0, sizeof rec.regs);
  }
  int fd = own_fds::current(g_socket);
  if (needs_ack(*ev)) {
    rec.flags |= trace_wire::kWantsAck;
    send_and_wait(fd, rec, len);
  } else if (!g_ring || !put_in_ring(fd, rec, len)) {
    send_plain(fd, rec, len);
  }
}

void on_event(const dune_event* ev, void*) {
  // Not followed: the first thread's events, and its process's end whichever
  // thread ends it (the first thread's events before it wait for it).
  if (!g_config.follow && ev->tid != g_config.root && !(ends_image(*ev) && ev->pid == g_config.root)) return;
  if (!passes(*ev)) return;
  if (ev->kind == DUNE_EV_SYSCALL && (ev->flags & DUNE_EVF_ENTRY)) {
    // Not a line of its own: the memory the call will change, for its line.
    if (!g_summary && !g_gone.load(std::memory_order_relaxed))
      entry_captures::keep(ev->pid, ev->tid, static_cast<long>(ev->u.syscall.nr), ev->u.syscall.args, read_guest);
    return;
  }
  if (g_summary) {
    add_to_summary(*ev);
    return;
  }
  if (g_gone.load(std::memory_order_relaxed)) return;
  if (ev->kind == DUNE_EV_SYSCALL || ev->kind == DUNE_EV_EXEC) {
    // Syscalls are sent from the vCPU loop, on the host stack (512 KiB):
    // room for their memory there, no allocation.
    Message m;
    m.rec.capture_len = capture_syscall(*ev, m.area, sizeof m.area);
    send_event(ev, m.rec, sizeof m.rec + m.rec.capture_len);
    return;
  }
  // Other events may come from a host signal handler: a record alone.
  TraceRecord rec;
  send_event(ev, rec, sizeof rec);
}

// The path dir/name, or false if it does not fit.
bool path_in(const char* dir, const char* name, char* out, size_t cap) {
  size_t d = std::strlen(dir), n = std::strlen(name);
  if (d + 1 + n + 1 > cap) return false;
  std::memcpy(out, dir, d);
  out[d] = '/';
  std::memcpy(out + d + 1, name, n + 1);
  return true;
}

bool connect_to_dunetrace() {
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  if (!path_in(g_config.dir, kTraceSocketName, addr.sun_path, sizeof addr.sun_path)) return false;
  long fd = sys::syscall6(SYS_socket, AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
  if (fd < 0) return false;
  long r;
  do {
    r = sys::syscall6(SYS_connect, fd, reinterpret_cast<long>(&addr), sizeof addr);
  } while (r == -EINTR);
  if (r != 0) {
    log::warn("dunetrace: cannot connect to {}: {}; not tracing", addr.sun_path, log::errno_name(static_cast<int>(r)));
    raw_close(static_cast<int>(fd));
    return false;
  }
  // Out of the program's way (a daemon closing every descriptor, dup2 onto it).
  g_socket = own_fds::adopt(static_cast<int>(fd));
  return true;
}

bool map_summary() {
  char path[sizeof g_config.dir + 16];
  if (!path_in(g_config.dir, kTraceSummaryName, path, sizeof path)) return false;
  long fd = sys::open(path, O_RDWR | O_CLOEXEC);
  if (fd < 0) {
    log::warn("dunetrace: cannot open {}: {}; not tracing", path, log::errno_name(static_cast<int>(fd)));
    return false;
  }
  size_t len = (sizeof(SummaryTable) + 4095) & ~size_t{4095};
  long mem = sys::mmap(nullptr, len, PROT_READ | PROT_WRITE, MAP_SHARED, static_cast<int>(fd), 0);
  raw_close(static_cast<int>(fd));
  if (sys::is_error(mem)) return false;
  auto* table = reinterpret_cast<SummaryTable*>(mem);
  if (table->magic != trace_wire::kSummaryMagic || table->version != trace_wire::kVersion) {
    sys::munmap(table, len);
    return false;
  }
  // The library's memory, not the program's: never mirrored into the guest.
  own_mappings::add(static_cast<uint64_t>(mem), static_cast<uint64_t>(mem) + len);
  g_summary = table;
  return true;
}

}  // namespace

void start_tracing(const char* spec) {
  if (!decode_trace_config(spec, &g_config)) {
    log::warn("DUNE_TRACE is not a dunetrace configuration; not tracing");
    return;
  }
  // Not followed: only the first process (and its exec'd images) reports.
  if (!g_config.follow && sys::getpid() != g_config.root) return;
  if (!connect_to_dunetrace()) return;
  if (g_config.summary) {
    if (!map_summary()) return;
  } else {
    make_ring(own_fds::current(g_socket));
  }
  uint32_t mask = g_config.kinds;
  if (g_config.summary) mask |= DUNE_EV_NO_REGS;  // counts only: no registers copied per event
  if (!g_config.summary && (mask & DUNE_EV_SYSCALL)) {
    // Calls with in-out arguments are seen before they run too.
    uint64_t entries[trace_wire::kMaxSyscall / 64] = {};
    for (long nr = 0; nr < trace_wire::kMaxSyscall; ++nr)
      if (trace_wire::wants_entry(nr) && g_config.syscall_passes(nr)) entries[nr / 64] |= 1ull << (nr % 64);
    dune_set_syscall_entries(entries, trace_wire::kMaxSyscall / 64);
  }
  dune_set_event_listener(on_event, nullptr, mask);
}

}  // namespace dune
