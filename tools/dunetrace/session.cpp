#include "session.h"

#include <dune/trace.h>
#include <poll.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <csignal>
#include <cstring>
#include <ctime>
#include <list>
#include <memory>
#include <unordered_map>
#include <unordered_set>

#include "elf_image.h"
#include "event_format.h"
#include "format_style.h"
#include "launch.h"
#include "locator.h"
#include "private_dir.h"
#include "process_maps.h"
#include "remote_unwinder.h"
#include "shared_summary.h"
#include "ring_reader.h"
#include "summary_table.h"
#include "symbolizer.h"
#include "syscall_format.h"
#include "syscall_capture.h"
#include "trace_config.h"
#include "trace_output.h"
#include "unique_fd.h"


namespace dunetrace {

namespace {

using dune::trace_wire::SummaryTable;
using dune::trace_wire::TraceRecord;
using dune::TraceConfig;
using dune::encode_trace_config;

// /proc/PID/exe, or "" (the process may be gone already).
std::string program_of(int pid) {
  char buf[4096];
  ssize_t n = readlink(("/proc/" + std::to_string(pid) + "/exe").c_str(), buf, sizeof buf - 1);
  return n > 0 ? std::string(buf, static_cast<size_t>(n)) : std::string();
}

void say(const std::string& msg) {
  std::string line = "dunetrace: " + msg + "\n";
  (void)!::write(2, line.data(), line.size());
}

// Whether a syscall's result passes -e status= (-z, -Z).
bool status_passes(const EventFilter& f, const dune_event& ev) {
  if (ev.kind != DUNE_EV_SYSCALL) return true;
  if (ev.flags & DUNE_EVF_NO_RETURN) return f.status & kStatusUnfinished;
  return f.status & (syscall_error(ev.u.syscall.ret) ? kStatusFailed : kStatusSuccessful);
}

class Session {
 public:
  Session(const Options& opts, TraceOutput& out)
      : opts_(opts),
        out_(out),
        locator_(maps_, elves_, symbols_),
        unwinder_(maps_, elves_),
        formatter_(format_style(opts)) {}

  int run(const std::string& program, const std::string& shim);

 private:
  bool listen_on(const std::string& path);
  bool setup_signals();
  TraceConfig trace_config() const;
  void loop();
  void on_signals();
  void accept_all();
  // A traced process's connection (forked children share it) and its ring.
  struct Client {
    UniqueFd fd;
    std::unique_ptr<RingReader> ring;
  };
  // Reads what a client sent, its ring first; false at its end.
  bool read_client(Client& c);
  // Takes what is in the client's ring; wait_ns: how long a record still
  // being written is waited for.
  void drain_ring(Client& c, long wait_ns);
  void handle(const TraceRecord& rec, std::string_view captures);
  bool done() const;
  int finish();

  const Options& opts_;
  TraceOutput& out_;
  ProcessMaps maps_;
  ElfCache elves_;
  Symbolizer symbols_;
  Locator locator_;
  RemoteUnwinder unwinder_;
  EventFormatter formatter_;
  // Where a record, then the memory its syscall captured, is received.
  struct Message {
    TraceRecord rec;
    char area[dune::trace_wire::kCaptureRoom];
  };
  std::unique_ptr<Message> message_ = std::make_unique<Message>();
  std::unique_ptr<PrivateDir> dir_;
  SharedSummary summary_;
  UniqueFd listen_fd_, signal_fd_;
  std::list<Client> clients_;
  RingReader::RecordFn on_ring_record_ = [this](const TraceRecord& r, std::string_view c) { handle(r, c); };
  sigset_t old_mask_{};
  sighandler_t old_sigpipe_ = SIG_DFL;
  pid_t root_ = -1;
  int root_status_ = 0;
  bool root_done_ = false;
  bool no_children_ = false;
  bool root_end_shown_ = false;
  bool any_process_ = false;  // some process entered Dune mode and reported
  int interrupted_by_ = 0;
  uint64_t event_no_ = 0;
  std::unordered_set<int> live_;  // processes started and not ended
  // An execve whose outcome is not known yet, by tid: its line prints "= 0"
  // when the new image starts, or the failure comes as the syscall's record.
  struct PendingExec {
    TraceRecord rec;
    std::string captures;
  };
  std::unordered_map<int, PendingExec> pending_exec_;
  void show_exec(int pid);
  // The program's execve, which ran before the shim: shown as its first line.
  void remember_first_exec(const std::string& program, const std::string& shim);
};

bool Session::listen_on(const std::string& path) {
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  if (path.size() >= sizeof addr.sun_path) return false;
  std::memcpy(addr.sun_path, path.c_str(), path.size() + 1);
  listen_fd_.reset(socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC | SOCK_NONBLOCK, 0));
  return listen_fd_ && bind(listen_fd_.get(), reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0 &&
         listen(listen_fd_.get(), 128) == 0;
}

bool Session::setup_signals() {
  // A closed trace pipe must not kill dunetrace (and with it the tracing);
  // the child gets the disposition back before exec.
  old_sigpipe_ = signal(SIGPIPE, SIG_IGN);
  sigset_t set;
  sigemptyset(&set);
  for (int s : {SIGCHLD, SIGINT, SIGTERM, SIGHUP}) sigaddset(&set, s);
  if (sigprocmask(SIG_BLOCK, &set, &old_mask_) != 0) return false;
  signal_fd_.reset(signalfd(-1, &set, SFD_CLOEXEC | SFD_NONBLOCK));
  return static_cast<bool>(signal_fd_);
}

TraceConfig Session::trace_config() const {
  TraceConfig c;
  const EventFilter& f = opts_.filter;
  c.kinds = f.dune_mask();
  // Process starts and image ends always come: a start says a new image's
  // mappings are new; an end (exec included) waits until every event before
  // it is symbolized.
  if (!opts_.summary) c.kinds |= DUNE_EV_THREAD | DUNE_EV_EXEC;
  c.exits = f.exits;
  for (long nr = 0; nr < dune::trace_wire::kMaxSyscall; ++nr) c.set_syscall(nr, f.syscalls.test(static_cast<size_t>(nr)));
  c.other_syscalls = f.other_syscalls;
  c.signals = f.signals;
  c.stack_depth = opts_.summary ? 0 : opts_.stack_depth;
  c.follow = opts_.follow;
  c.summary = opts_.summary;
  c.string_limit = opts_.string_limit;
  c.fd_paths = opts_.fd_paths;
  std::memcpy(c.dir, dir_->path().c_str(), dir_->path().size() + 1);
  return c;
}

void Session::on_signals() {
  signalfd_siginfo si;
  while (::read(signal_fd_.get(), &si, sizeof si) == sizeof si) {
    if (si.ssi_signo != SIGCHLD) interrupted_by_ = static_cast<int>(si.ssi_signo);
  }
  // Reap every child: the program, and with -f (dunetrace is then the
  // subreaper) every orphaned descendant.
  for (;;) {
    int status = 0;
    pid_t p = waitpid(-1, &status, WNOHANG);
    if (p == 0) break;
    if (p < 0) {
      if (errno == ECHILD) no_children_ = true;
      break;
    }
    if (p == root_) {
      root_done_ = true;
      root_status_ = status;
    }
  }
}

void Session::accept_all() {
  for (;;) {
    int fd = accept4(listen_fd_.get(), nullptr, nullptr, SOCK_CLOEXEC | SOCK_NONBLOCK);
    if (fd < 0) return;
    clients_.push_back(Client{UniqueFd(fd), nullptr});
  }
}

void Session::drain_ring(Client& c, long wait_ns) {
  if (c.ring) c.ring->drain(on_ring_record_, wait_ns);
}

bool Session::read_client(Client& c) {
  // A record on the socket comes after the ring's records of the same thread:
  // those first. One being written is waited for a while (its writer may be
  // this thread, interrupted by a signal whose record this is: then not long).
  constexpr long kRingWaitNs = 20 * 1000 * 1000;
  Message* m = message_.get();
  for (;;) {
    TraceRecord& rec = m->rec;
    iovec iov{m, sizeof *m};
    alignas(cmsghdr) char control[CMSG_SPACE(sizeof(int))];
    msghdr msg{};
    msg.msg_iov = &iov;
    msg.msg_iovlen = 1;
    msg.msg_control = control;
    msg.msg_controllen = sizeof control;
    ssize_t n = recvmsg(c.fd.get(), &msg, MSG_CMSG_CLOEXEC | MSG_DONTWAIT);
    if (n < 0 && (errno == EAGAIN || errno == EINTR)) return true;
    if (n <= 0) {
      // Every writer is gone: what is in the ring is all there will be.
      if (c.ring) c.ring->drain_final(on_ring_record_);
      return false;
    }
    // The waiting thread goes on when this closes: after the event is handled
    // (with a hello, the fd is the ring).
    UniqueFd passed;
    for (cmsghdr* cm = CMSG_FIRSTHDR(&msg); cm; cm = CMSG_NXTHDR(&msg, cm)) {
      if (cm->cmsg_level == SOL_SOCKET && cm->cmsg_type == SCM_RIGHTS && cm->cmsg_len == CMSG_LEN(sizeof(int))) {
        int fd;
        std::memcpy(&fd, CMSG_DATA(cm), sizeof fd);
        passed.reset(fd);
      }
    }
    if ((msg.msg_flags & MSG_TRUNC) || !record_intact(rec, static_cast<size_t>(n)))
      continue;  // not ours: dropped
    if (rec.flags & dune::trace_wire::kRingHello) {
      if (!c.ring && passed) c.ring = RingReader::attach(passed.get());
      continue;
    }
    if (rec.flags & dune::trace_wire::kRingFull) {
      drain_ring(c, 0);  // the writer waits for room: the ring's records, then the answer
      continue;
    }
    drain_ring(c, kRingWaitNs);
    handle(rec, std::string_view(m->area, rec.capture_len));
  }
}

void Session::handle(const TraceRecord& rec, std::string_view captures) {
  ++event_no_;
  const dune_event& ev = rec.event;
  // A wait: the records before it are handled; the answer lets the exec run
  // (the new image's start then says its mappings are new). Its line waits
  // for the outcome.
  auto nr = static_cast<long>(ev.u.syscall.nr);
  bool is_exec_call = nr == SYS_execve || nr == SYS_execveat;
  if (ev.kind == DUNE_EV_EXEC) {
    if (opts_.filter.shows(kKindSyscall) && nr >= 0 && nr < 1024 && opts_.filter.syscalls.test(static_cast<size_t>(nr)))
      pending_exec_[ev.tid] = PendingExec{rec, std::string(captures)};
    return;
  }
  if (ev.kind == DUNE_EV_SYSCALL && is_exec_call) pending_exec_.erase(ev.tid);  // it failed: this is its line
  bool is_process = ev.kind == DUNE_EV_THREAD && ev.u.thread.process;
  bool exec = false;
  if (is_process && ev.u.thread.started) {
    maps_.forget(ev.pid);  // a new image
    any_process_ = true;
    exec = !live_.insert(ev.pid).second;  // it started before: this is an exec
    show_exec(ev.pid);  // the execve that made this image (the program's own for the first)
  }
  if (is_process && !ev.u.thread.started) {
    for (auto it = pending_exec_.begin(); it != pending_exec_.end();)
      it = it->second.rec.event.pid == ev.pid ? pending_exec_.erase(it) : std::next(it);
    live_.erase(ev.pid);
    maps_.forget(ev.pid);  // its events are handled (a late thread's read the maps anew)
  }
  EventKind kind = ev.kind == DUNE_EV_VMEXIT     ? kKindExit
                   : ev.kind == DUNE_EV_SYSCALL  ? kKindSyscall
                   : ev.kind == DUNE_EV_BADSTACK ? kKindBadstack
                   : ev.kind == DUNE_EV_SIGNAL   ? kKindSignal
                   : ev.kind == DUNE_EV_THREAD   ? kKindProcess
                                                 : kKindFault;
  if (!opts_.filter.shows(kind) || !status_passes(opts_.filter, ev)) return;
  // -q: no start lines; -qq: no end lines either (strace's "+++ exited").
  if (kind == kKindProcess && opts_.quiet >= (ev.u.thread.started ? 1 : 2)) {
    if (is_process && !ev.u.thread.started && ev.pid == root_) root_end_shown_ = true;
    return;
  }
  if (is_process && !ev.u.thread.started && ev.pid == root_) root_end_shown_ = true;

  EventData d;
  d.rec = &rec;
  d.captures = captures;
  d.exec = exec;
  if (is_process && ev.u.thread.started) d.exe = program_of(ev.pid);
  bool regs = rec.flags & dune::trace_wire::kHasRegs;
  Location at;
  if (regs && kind != kKindSyscall && kind != kKindProcess) {
    at = locator_.locate(ev.pid, rec.regs.rip, false, event_no_);
    d.at = &at;
  }
  if (regs && opts_.stack_depth > 0) {
    for (const UnwoundFrame& f : unwinder_.unwind(ev.pid, ev.tid, rec.regs, opts_.stack_depth, event_no_))
      d.backtrace.push_back(locator_.locate(ev.pid, f.ip, !f.exact, event_no_));
  }
  Location handler;
  if (ev.kind == DUNE_EV_SIGNAL && ev.u.signal.handler > 1) {
    handler = locator_.locate(ev.pid, ev.u.signal.handler, false, event_no_);
    d.handler = &handler;
  }
  if (ev.kind == DUNE_EV_BADSTACK && ev.u.badstack.map_end)
    if (const MappedRegion* r = maps_.find(ev.pid, ev.u.badstack.map_start, event_no_)) d.mapping_name = r->path;
  out_.write(ev.pid, formatter_.format(d));
}

void Session::show_exec(int pid) {
  for (auto it = pending_exec_.begin(); it != pending_exec_.end();) {
    if (it->second.rec.event.pid != pid) {
      ++it;
      continue;
    }
    TraceRecord r = it->second.rec;
    r.event.kind = DUNE_EV_SYSCALL;  // the exec's line, with its outcome: 0
    r.event.u.syscall.ret = 0;
    if (status_passes(opts_.filter, r.event)) {
      EventData d;
      d.rec = &r;
      d.captures = it->second.captures;
      out_.write(pid, formatter_.format(d));
    }
    it = pending_exec_.erase(it);
  }
}

void Session::remember_first_exec(const std::string& program, const std::string& shim) {
  if (!opts_.filter.shows(kKindSyscall) || !opts_.filter.syscalls.test(SYS_execve)) return;
  PendingExec p{};
  p.rec.event.kind = DUNE_EV_EXEC;
  p.rec.event.pid = root_;
  p.rec.event.tid = root_;
  p.rec.event.u.syscall.nr = SYS_execve;
  p.rec.event.tsc = __builtin_ia32_rdtsc();
  p.captures = first_exec_captures(program, opts_.command, traced_environment(shim, "1"),
                                   static_cast<uint32_t>(opts_.string_limit), p.rec.event.u.syscall.args);
  std::memset(&p.rec.regs, 0, sizeof p.rec.regs);
  pending_exec_[root_] = std::move(p);
}

bool Session::done() const {
  if (interrupted_by_) return true;
  // Followed: until every descendant is gone (dunetrace is their subreaper)
  // and every connection closed. Not followed: until the program ends.
  return opts_.follow ? no_children_ && clients_.empty() : root_done_;
}

void Session::loop() {
  // Records come through the rings without waking dunetrace: it collects them
  // every kBatchNs while they flow and every kIdleNs otherwise (a line shows
  // that much later at most). Records on the sockets (waits, and everything
  // when a process has no ring) wake it at once.
  constexpr long kIdleNs = 10 * 1000 * 1000;
  // With several CPUs the nap is short and on the signals alone: a sender
  // that finds dunetrace asleep on its socket pays for waking it (an IPI,
  // dear in a VM), more than for the event. With one CPU there is no other
  // CPU to wake, and a sender whose socket queue is full would wait for the
  // end of the nap (docs/platform-notes.md): dunetrace sleeps on the sockets,
  // longer, while the program fills its ring.
  const bool several_cpus = sysconf(_SC_NPROCESSORS_ONLN) > 1;
  const long batch_ns = several_cpus ? 100 * 1000 : 1000 * 1000;
  constexpr int kQuietRounds = 20;  // then back to the idle pace
  int busy = 0;
  while (!done()) {
    std::vector<pollfd> fds;
    fds.push_back({signal_fd_.get(), POLLIN, 0});
    bool signals_only = busy > 0 && several_cpus;
    if (!signals_only) {
      fds.push_back({listen_fd_.get(), POLLIN, 0});
      for (auto& c : clients_) fds.push_back({c.fd.get(), POLLIN, 0});
    }
    long ns = busy > 0 ? batch_ns : kIdleNs;
    timespec nap{ns / 1000000000, ns % 1000000000};
    if (ppoll(fds.data(), fds.size(), &nap, nullptr) < 0 && errno != EINTR) {
      say(std::string("ppoll: ") + std::strerror(errno));
      return;
    }
    if (fds[0].revents) on_signals();
    uint64_t before = event_no_;
    accept_all();
    for (auto it = clients_.begin(); it != clients_.end();) {
      drain_ring(*it, 0);
      if (read_client(*it))
        ++it;
      else
        it = clients_.erase(it);
    }
    out_.flush();
    busy = event_no_ != before ? kQuietRounds : busy - 1;
  }
  // What was sent before the end is in the sockets and rings still.
  accept_all();
  for (auto& c : clients_) {
    read_client(c);
    if (c.ring) c.ring->drain_final(on_ring_record_);
  }
  out_.flush();
}

int Session::finish() {
  if (opts_.summary && summary_.table()) {
    Summary s = build_summary(*summary_.table(), opts_.filter.shows(kKindExit), opts_.filter.shows(kKindSyscall));
    out_.write(root_, opts_.json ? format_summary_json(s) : format_summary_text(s));
  } else if (root_done_ && !root_end_shown_ && opts_.filter.shows(kKindProcess)) {
    out_.write(root_, formatter_.format_wait_status(root_, root_status_));
  }
  out_.flush();
  if (interrupted_by_) {
    say("interrupted by " + std::string(strsignal(interrupted_by_)) + "; the program runs on untraced");
    return 128 + interrupted_by_;
  }
  if (!any_process_ && !opts_.summary)
    say("no process reported from Dune mode (a static program? no /dev/kvm? see the messages above)");
  if (WIFSIGNALED(root_status_)) return 128 + WTERMSIG(root_status_);
  return WEXITSTATUS(root_status_);
}

int Session::run(const std::string& program, const std::string& shim) {
  auto path = PrivateDir::create_path();
  if (!path.ok()) {
    say(path.error);
    return kExitCannotRun;
  }
  dir_ = std::make_unique<PrivateDir>(path.value);
  if (!listen_on(dir_->file(dune::kTraceSocketName))) {
    say("cannot listen on " + dir_->path() + ": " + std::strerror(errno));
    return kExitCannotRun;
  }
  if (opts_.summary && !summary_.create(dir_->file(dune::kTraceSummaryName))) {
    say("cannot create the summary table in " + dir_->path() + ": " + std::strerror(errno));
    return kExitCannotRun;
  }
  if (!setup_signals()) {
    say(std::string("cannot set up signals: ") + std::strerror(errno));
    return kExitCannotRun;
  }
  // Followed: orphaned descendants come to dunetrace, so that it sees them end.
  if (opts_.follow) prctl(PR_SET_CHILD_SUBREAPER, 1);
  Parsed<pid_t> child = launch_traced(opts_.command, program, shim, trace_config(), old_sigpipe_, old_mask_);
  if (!child.ok()) {
    say(child.error);
    return kExitCannotRun;
  }
  root_ = child.value;
  remember_first_exec(program, shim);
  loop();
  return finish();
}

}  // namespace

int run_session(const Options& opts, const std::string& program, const std::string& shim, TraceOutput& out) {
  Session s(opts, out);
  return s.run(program, shim);
}

}  // namespace dunetrace
