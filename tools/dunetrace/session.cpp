#include "session.h"

#include <dune/trace.h>
#include <fcntl.h>
#include <poll.h>
#include <sys/mman.h>
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
#include <new>

#include "elf_image.h"
#include "event_format.h"
#include "locator.h"
#include "private_dir.h"
#include "process_maps.h"
#include "remote_unwinder.h"
#include "summary_table.h"
#include "symbolizer.h"
#include "syscall_format.h"
#include "syscall_capture.h"
#include "trace_config.h"
#include "trace_output.h"
#include "unique_fd.h"

extern char** environ;

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

// The TSC's rate (guest and host TSC are one clock), measured against
// CLOCK_MONOTONIC over a short sleep.
double measure_tsc_hz() {
  timespec a{}, b{};
  clock_gettime(CLOCK_MONOTONIC, &a);
  uint64_t t0 = __builtin_ia32_rdtsc();
  timespec nap{0, 20 * 1000 * 1000};
  nanosleep(&nap, nullptr);
  clock_gettime(CLOCK_MONOTONIC, &b);
  uint64_t t1 = __builtin_ia32_rdtsc();
  double secs = static_cast<double>(b.tv_sec - a.tv_sec) + static_cast<double>(b.tv_nsec - a.tv_nsec) / 1e9;
  return secs > 0 ? static_cast<double>(t1 - t0) / secs : 0;
}

// The summary table, in a file of the private directory that every traced
// process maps shared.
class SharedSummary {
 public:
  bool create(const std::string& path) {
    UniqueFd fd(::open(path.c_str(), O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600));
    if (!fd || ftruncate(fd.get(), static_cast<off_t>(bytes())) != 0) return false;
    void* m = mmap(nullptr, bytes(), PROT_READ | PROT_WRITE, MAP_SHARED, fd.get(), 0);
    if (m == MAP_FAILED) return false;
    table_ = new (m) SummaryTable();
    return true;
  }
  ~SharedSummary() {
    if (table_) munmap(table_, bytes());
  }
  const SummaryTable* table() const { return table_; }

 private:
  static size_t bytes() { return (sizeof(SummaryTable) + 4095) & ~size_t{4095}; }
  SummaryTable* table_ = nullptr;
};

FormatStyle format_style(const Options& o) {
  FormatStyle s;
  s.json = o.json;
  s.follow = o.follow;
  s.timing = o.timing;
  s.string_limit = o.string_limit;
  s.fd_paths = o.fd_paths;
  s.timestamps = o.timestamps;
  s.relative = o.relative_timestamps;
  if (o.timing || o.timestamps || o.relative_timestamps) {
    s.tsc_hz = measure_tsc_hz();
    timespec now{};
    s.anchor_tsc = __builtin_ia32_rdtsc();
    clock_gettime(CLOCK_REALTIME, &now);
    s.anchor_realtime_ns = static_cast<int64_t>(now.tv_sec) * 1000000000 + now.tv_nsec;
  }
  return s;
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
  // Starts the program; -1 and a message if it cannot be run.
  pid_t launch(const std::string& program, const std::string& shim, const TraceConfig& cfg);
  void loop();
  void on_signals();
  void accept_all();
  // Reads what a client sent; false at its end.
  bool read_client(int fd);
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
  std::list<UniqueFd> clients_;
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

pid_t Session::launch(const std::string& program, const std::string& shim, const TraceConfig& cfg) {
  int status_pipe[2];
  if (pipe2(status_pipe, O_CLOEXEC) != 0) {
    say(std::string("pipe: ") + std::strerror(errno));
    return -1;
  }
  UniqueFd rd(status_pipe[0]), wr(status_pipe[1]);
  pid_t pid = fork();
  if (pid < 0) {
    say(std::string("fork: ") + std::strerror(errno));
    return -1;
  }
  if (pid == 0) {
    // The program's signal state is its own, as if dunetrace were not there.
    signal(SIGPIPE, old_sigpipe_ == SIG_ERR ? SIG_DFL : old_sigpipe_);
    sigprocmask(SIG_SETMASK, &old_mask_, nullptr);
    TraceConfig mine = cfg;
    mine.root = getpid();
    std::vector<std::string> env;
    std::string preload = shim;
    for (char** e = environ; *e; ++e) {
      std::string_view v = *e;
      if (v.substr(0, 11) == "LD_PRELOAD=") {
        if (v.size() > 11) preload += ":" + std::string(v.substr(11));
      } else if (v.substr(0, 11) != "DUNE_TRACE=") {
        env.emplace_back(v);
      }
    }
    env.push_back("LD_PRELOAD=" + preload);
    env.push_back("DUNE_TRACE=" + encode_trace_config(mine));
    std::vector<char*> envp, argv;
    for (auto& s : env) envp.push_back(s.data());
    envp.push_back(nullptr);
    std::vector<std::string> args = opts_.command;
    for (auto& s : args) argv.push_back(s.data());
    argv.push_back(nullptr);
    execve(program.c_str(), argv.data(), envp.data());
    int err = errno;
    (void)!::write(wr.get(), &err, sizeof err);
    _exit(kExitCannotRun);
  }
  wr.reset();
  int err = 0;
  ssize_t n;
  do {
    n = ::read(rd.get(), &err, sizeof err);
  } while (n < 0 && errno == EINTR);
  if (n == sizeof err) {
    say("cannot run '" + program + "': " + std::strerror(err));
    waitpid(pid, nullptr, 0);
    return -1;
  }
  return pid;
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
    clients_.emplace_back(fd);
  }
}

bool Session::read_client(int fd) {
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
    ssize_t n = recvmsg(fd, &msg, MSG_CMSG_CLOEXEC | MSG_DONTWAIT);
    if (n < 0) return errno == EAGAIN || errno == EINTR;
    if (n == 0) return false;
    // The waiting thread goes on when this closes: after the event is handled.
    UniqueFd ack;
    for (cmsghdr* c = CMSG_FIRSTHDR(&msg); c; c = CMSG_NXTHDR(&msg, c)) {
      if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_RIGHTS && c->cmsg_len == CMSG_LEN(sizeof(int))) {
        int passed;
        std::memcpy(&passed, CMSG_DATA(c), sizeof passed);
        ack.reset(passed);
      }
    }
    if (n < static_cast<ssize_t>(sizeof rec) || rec.magic != dune::trace_wire::kRecordMagic ||
        rec.version != dune::trace_wire::kVersion || (msg.msg_flags & MSG_TRUNC) ||
        static_cast<size_t>(n) != sizeof rec + rec.capture_len)
      continue;  // not ours: dropped
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
    if (exec) show_exec(ev.pid);
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

bool Session::done() const {
  if (interrupted_by_) return true;
  // Followed: until every descendant is gone (dunetrace is their subreaper)
  // and every connection closed. Not followed: until the program ends.
  return opts_.follow ? no_children_ && clients_.empty() : root_done_;
}

void Session::loop() {
  // While events flow, dunetrace collects them every kBatchNs instead of
  // sleeping in poll on the sockets: a sender that finds dunetrace asleep
  // pays for waking it (an IPI, dear in a VM), more than for the event.
  constexpr long kBatchNs = 100 * 1000;
  constexpr int kQuietRounds = 20;  // then back to sleeping until something comes
  // With one CPU there is no other CPU to wake: a sender whose queue is full
  // (10 records) would wait for the end of the nap, idle; there dunetrace
  // sleeps on the sockets themselves (docs/platform-notes.md).
  const bool batch = sysconf(_SC_NPROCESSORS_ONLN) > 1;
  int busy = 0;
  while (!done()) {
    std::vector<pollfd> fds;
    fds.push_back({signal_fd_.get(), POLLIN, 0});
    if (busy > 0 && batch) {
      timespec nap{0, kBatchNs};
      ppoll(fds.data(), 1, &nap, nullptr);
    } else {
      fds.push_back({listen_fd_.get(), POLLIN, 0});
      for (auto& c : clients_) fds.push_back({c.get(), POLLIN, 0});
      if (poll(fds.data(), fds.size(), -1) < 0 && errno != EINTR) {
        say(std::string("poll: ") + std::strerror(errno));
        return;
      }
    }
    if (fds[0].revents) on_signals();
    uint64_t before = event_no_;
    accept_all();
    for (auto it = clients_.begin(); it != clients_.end();) {
      if (read_client(it->get()))
        ++it;
      else
        it = clients_.erase(it);
    }
    out_.flush();
    busy = event_no_ != before ? kQuietRounds : busy - 1;
  }
  // What was sent before the end is in the sockets still.
  accept_all();
  for (auto& c : clients_) read_client(c.get());
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
  root_ = launch(program, shim, trace_config());
  if (root_ < 0) return kExitCannotRun;
  loop();
  return finish();
}

}  // namespace

int run_session(const Options& opts, const std::string& program, const std::string& shim, TraceOutput& out) {
  Session s(opts, out);
  return s.run(program, shim);
}

}  // namespace dunetrace
