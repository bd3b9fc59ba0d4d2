// gdb_server.cpp - the server's thread: listening, one connection at a time,
// stops reported as they come, commands answered while the program is stopped.
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <sys/socket.h>
#include <sys/un.h>

#include <atomic>
#include <csignal>
#include <cstdlib>
#include <cstring>
#include <mutex>

#include "base/log.h"
#include "base/own_fds.h"
#include "base/raw_syscall.h"
#include "base/spin_lock.h"
#include "debug/debug_stop.h"
#include "debug/gdb_address.h"
#include "debug/gdb_connection.h"
#include "debug/gdb_session.h"
#include "debug/gdb_signals.h"
#include "debug/host_breakpoints.h"
#include "debug/hw_breakpoints.h"
#include "runtime/runtime.h"
#include "debug/target_memory.h"
#include "signals/host_signals.h"

namespace dune::debug {

namespace {

// SIGRTMAX: glibc keeps the lowest realtime signals for itself, programs
// rarely use the highest.
constexpr int kKickSignal = 64;
constexpr int kMaxActions = 16;

int g_listen = -1;              // own_fds name
std::atomic<int> g_client{-1};  // the connected gdb's socket (real number), -1: none
SpinLock g_send_lock;           // one packet at a time on the socket
std::atomic<int> g_server_tid{0};
ListenAddress g_address;
bool g_server_running = false;

int fd_of(int name) { return name < 0 ? name : own_fds::current(name); }

bool send_raw(int fd, std::string_view bytes) {
  std::lock_guard<SpinLock> g(g_send_lock);
  return sys::write_all(fd, bytes.data(), bytes.size()) >= 0;
}

long listen_on(const ListenAddress& a, char* shown, size_t shown_len) {
  int domain = a.is_unix ? AF_UNIX : AF_INET;
  long fd = sys::syscall6(SYS_socket, domain, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return fd;
  long r;
  if (a.is_unix) {
    sockaddr_un sa{};
    sa.sun_family = AF_UNIX;
    std::memcpy(sa.sun_path, a.path, sizeof(sa.sun_path) - 1);
    sys::syscall6(SYS_unlink, reinterpret_cast<long>(a.path));  // a stale socket of an earlier run
    r = sys::syscall6(SYS_bind, fd, reinterpret_cast<long>(&sa), sizeof sa);
    fmt::format_to_n(shown, shown_len - 1, "{}", a.path).out[0] = 0;
  } else {
    int one = 1;
    sys::syscall6(SYS_setsockopt, fd, SOL_SOCKET, SO_REUSEADDR, reinterpret_cast<long>(&one), sizeof one);
    sockaddr_in sa{};
    sa.sin_family = AF_INET;
    sa.sin_port = htons(a.port);
    sa.sin_addr.s_addr = htonl(a.ipv4);
    r = sys::syscall6(SYS_bind, fd, reinterpret_cast<long>(&sa), sizeof sa);
    if (r == 0) {
      socklen_t len = sizeof sa;
      sys::syscall6(SYS_getsockname, fd, reinterpret_cast<long>(&sa), reinterpret_cast<long>(&len));
      uint32_t ip = ntohl(sa.sin_addr.s_addr);
      fmt::format_to_n(shown, shown_len - 1, "{}.{}.{}.{}:{}", ip >> 24, (ip >> 16) & 255, (ip >> 8) & 255,
                       ip & 255, ntohs(sa.sin_port))
          .out[0] = 0;
    }
  }
  if (r == 0) r = sys::syscall6(SYS_listen, fd, 2);
  if (r < 0) {
    sys::close(static_cast<int>(fd));
    return r;
  }
  return fd;
}

// The stop every thread is parked for: what '?' and the next commands answer for.
void collect_stop(Connection& c) {
  StopReport s;
  if (!wait_all_parked(&s))
    log::warn("gdb: some threads did not stop within 5 s (blocked in the kernel with signal {} blocked?)",
              kKickSignal);
  c.stop = s;
  c.g_tid = 0;
  c.c_tid = -1;
}

// ... and told to gdb, which waits for it after a resume or a Ctrl-C.
bool report_stop(Connection& c) {
  collect_stop(c);
  return send_packet(c, stop_reply(c.stop));
}

// Lets the program go without the debugger: breakpoints out, threads resumed,
// a signal the stop was for still delivered.
void let_go(Connection& c, bool stopped) {
  remove_all_breakpoints();
  remove_all_hw();
  set_pass_signals(0);
  set_attached(false);
  if (!stopped) {
    request_stop(SIGTRAP);
    StopReport s;
    (void)wait_all_parked(&s);
    c.stop = s;
  }
  ResumeAction go[2];
  go[0].tid = c.stop.tid;
  go[0].signo = c.stop.why == Why::kSignal ? c.stop.signo : 0;
  go[1] = ResumeAction{};
  resume_all(go, 2);
}

void refuse(int listen_fd) {
  long extra = sys::syscall6(SYS_accept4, listen_fd, 0, 0, SOCK_CLOEXEC);
  if (extra < 0) return;
  static const char kBusy[] = "$E01#a6";
  sys::write(static_cast<int>(extra), kBusy, sizeof kBusy - 1);
  sys::close(static_cast<int>(extra));
  log::warn("gdb: a second debugger connection refused: one is attached");
}

// One connection, from accept to detach, kill or the peer's end.
void serve(int fd) {
  Connection c;
  c.fd = fd;
  g_client.store(fd);
  set_attached(true);
  request_stop(SIGTRAP);  // the first thread waits already; a running program stops now
  collect_stop(c);        // gdb asks with '?'
  bool stopped = true;
  int listen_fd = fd_of(g_listen);
  char buf[4096];
  for (;;) {
    pollfd p[3] = {{fd, POLLIN, 0}, {listen_fd, POLLIN, 0}, {event_fd(), POLLIN, 0}};
    long r = sys::syscall6(SYS_poll, reinterpret_cast<long>(p), stopped ? 2 : 3, -1);
    if (r == -EINTR) continue;
    if (r < 0) break;
    if (p[1].revents & POLLIN) refuse(listen_fd);
    if (!stopped && (p[2].revents & POLLIN)) {
      if (!report_stop(c)) break;
      stopped = true;
    }
    if (!(p[0].revents & (POLLIN | POLLHUP | POLLERR))) continue;
    long n = sys::read(fd, buf, sizeof buf);
    if (n == -EINTR || n == -EAGAIN) continue;
    if (n <= 0) break;
    c.reader.feed(buf, static_cast<size_t>(n));
    for (;;) {
      rsp::Input in = c.reader.next();
      if (in == rsp::Input::kNone) break;
      if (in == rsp::Input::kInterrupt) {
        if (!stopped) {
          request_stop(SIGINT);
          if (!report_stop(c)) goto gone;
          stopped = true;
        }
        continue;
      }
      if (in == rsp::Input::kBadPacket) {
        if (c.ack) send_raw(fd, "-");
        continue;
      }
      if (in != rsp::Input::kPacket) continue;
      if (c.ack) send_raw(fd, "+");
      if (!stopped) continue;  // nothing but Ctrl-C is expected while running
      ResumeAction actions[kMaxActions];
      int count = 0;
      switch (handle_packet(c, c.reader.payload(), actions, &count, kMaxActions)) {
        case After::kStay: break;
        case After::kResume:
          stopped = false;
          resume_all(actions, count);
          break;
        case After::kDetach:
          let_go(c, true);
          g_client.store(-1);
          return;
        case After::kKill:
          g_client.store(-1);
          log::info("gdb: killed the program");
          sys::syscall6(SYS_kill, sys::getpid(), SIGKILL);
          for (;;) sys::syscall6(SYS_pause);
      }
    }
  }
gone:
  // The debugger went away without a word: the program goes on, as after detach.
  g_client.store(-1);
  log::warn("gdb: the debugger's connection ended; the program goes on");
  let_go(c, stopped);
}

void* server_main(void*) {
  g_server_tid.store(static_cast<int>(sys::gettid()));
  // Its own calls into libc may meet gdb's breakpoints too (host_breakpoints.h).
  uint64_t trap = 1ull << (SIGTRAP - 1);
  sys::syscall6(SYS_rt_sigprocmask, SIG_UNBLOCK, reinterpret_cast<long>(&trap), 0, 8);
  if (!open_target_memory()) log::warn("gdb: /proc/thread-self/mem: cannot write the program's memory");
  for (;;) {
    long fd = sys::syscall6(SYS_accept4, fd_of(g_listen), 0, 0, SOCK_CLOEXEC);
    if (fd == -EINTR || fd == -ECONNABORTED) continue;
    if (fd < 0) {
      log::error("gdb: accept failed: {}; the server stops", log::errno_name(static_cast<int>(-fd)));
      break;
    }
    int one = 1;
    if (!g_address.is_unix)
      sys::syscall6(SYS_setsockopt, fd, IPPROTO_TCP, 1 /* TCP_NODELAY */, reinterpret_cast<long>(&one), sizeof one);
    int name = own_fds::adopt(static_cast<int>(fd));
    serve(own_fds::current(name));
    own_fds::close(name);
  }
  return nullptr;
}

}  // namespace

bool send_packet(Connection& c, std::string_view payload) {
  rsp::Text framed = rsp::frame(payload);
  return send_raw(c.fd, framed);
}

bool wanted() {
  const char* v = std::getenv("DUNE_GDB");
  return v && *v;
}

int kick_signal() { return kKickSignal; }
int server_tid() { return g_server_tid.load(); }

bool start_server() {
  const char* text = std::getenv("DUNE_GDB");
  const char* why = nullptr;
  if (!parse_listen_address(text, &g_address, &why)) {
    log::error("DUNE_GDB='{}': {}; expected [HOST:]PORT or a Unix socket path; running without gdb", text, why);
    return false;
  }
  char shown[128] = {};
  long fd = listen_on(g_address, shown, sizeof shown);
  if (fd < 0) {
    log::error("gdb: cannot listen on {}: {}; running without gdb", text, log::errno_name(static_cast<int>(-fd)));
    return false;
  }
  g_listen = own_fds::adopt(static_cast<int>(fd));
  if (!reserve_kick_signal(kKickSignal) || !reserve_host_breakpoints()) {
    log::error("gdb: cannot install the handler of signal {}; running without gdb", kKickSignal);
    return false;
  }
  // Native and deaf to the program's signals: a signal for the process must
  // reach one of the program's threads.
  sigset_t all, old;
  sigfillset(&all);
  pthread_sigmask(SIG_SETMASK, &all, &old);
  pthread_t th;
  pthread_attr_t attr;
  pthread_attr_init(&attr);
  pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
  int rc = pthread_create(&th, &attr, server_main, nullptr);
  pthread_attr_destroy(&attr);
  pthread_sigmask(SIG_SETMASK, &old, nullptr);
  if (rc != 0) {
    log::error("gdb: cannot start the server thread: {}; running without gdb", log::errno_name(rc));
    return false;
  }
  g_server_running = true;
  find_library_code();
  // What the program execs runs without gdb, unless asked: a child would
  // otherwise wait for a debugger nobody knows of.
  const char* follow = std::getenv("DUNE_GDB_EXEC");
  if (!follow || std::strcmp(follow, "1") != 0) unsetenv("DUNE_GDB");
  // Not on PVM nor the module (flavour.h): gdb then watches by single-stepping.
  Runtime* rt = runtime();
  set_hw_supported(rt && rt->traits.hardware_breakpoints);
  // The first thread to enter Dune mode waits there for gdb's continue.
  request_stop(SIGTRAP);
  log::warn("gdb: waiting for a debugger on {} (gdb PROGRAM -ex 'target remote {}')", shown, shown);
  return true;
}

void session_ended(char kind, int value) {
  int fd = g_client.exchange(-1);
  if (fd < 0) return;
  // Framed on the stack: this may run in a fatal signal's handler.
  static const char kDigits[] = "0123456789abcdef";
  uint8_t v = static_cast<uint8_t>(kind == 'X' ? gdb::signal_to_gdb(value) : value);
  char packet[] = {'$', kind, kDigits[v >> 4], kDigits[v & 15], '#', 0, 0};
  uint8_t sum = static_cast<uint8_t>(packet[1] + packet[2] + packet[3]);
  packet[5] = kDigits[sum >> 4];
  packet[6] = kDigits[sum & 15];
  send_raw(fd, std::string_view(packet, sizeof packet));
}

void forget_after_fork() {
  if (!g_server_running) return;
  g_server_running = false;
  g_server_tid.store(0);
  g_client.store(-1);
  clear_after_fork();
  remove_all_hw();
  // The parent's int3s are in this copy of its memory: put the bytes back.
  if (open_target_memory()) {
    remove_all_breakpoints();
    close_target_memory();
  }
  release_host_signal(kKickSignal);
  release_host_breakpoints();
  if (g_listen >= 0) {
    own_fds::close(g_listen);
    g_listen = -1;
  }
}

}  // namespace dune::debug
