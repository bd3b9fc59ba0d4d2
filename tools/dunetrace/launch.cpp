#include "launch.h"

#include <fcntl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <string_view>

#include "options.h"
#include "syscall_capture.h"
#include "unique_fd.h"

extern char** environ;

namespace dunetrace {

std::vector<std::string> traced_environment(const std::string& shim, const std::string& trace) {
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
  env.push_back("DUNE_TRACE=" + trace);
  return env;
}

namespace {
// The capture plan reads dunetrace's own memory here.
bool read_own(uint64_t addr, void* dst, size_t n) {
  if (addr < 4096) return false;
  std::memcpy(dst, reinterpret_cast<const void*>(addr), n);
  return true;
}
}  // namespace

std::string first_exec_captures(const std::string& program, const std::vector<std::string>& command,
                                const std::vector<std::string>& env, uint32_t limit, uint64_t (&args)[6]) {
  std::vector<const char*> argv;
  for (const auto& a : command) argv.push_back(a.c_str());
  argv.push_back(nullptr);
  std::vector<const char*> envp;
  for (const auto& e : env) envp.push_back(e.c_str());
  envp.push_back(nullptr);
  uint64_t a[6] = {reinterpret_cast<uint64_t>(program.c_str()), reinterpret_cast<uint64_t>(argv.data()),
                   reinterpret_cast<uint64_t>(envp.data()), 0, 0, 0};
  dune::trace_wire::CaptureItem items[dune::trace_wire::kMaxCaptureItems];
  int n = dune::trace_wire::capture_plan(SYS_execve, a, 0, limit, items);
  std::string area(dune::trace_wire::kCaptureRoom, '\0');
  size_t used = dune::trace_wire::run_capture(items, n, a, limit, read_own, reinterpret_cast<uint8_t*>(area.data()),
                                              area.size());
  area.resize(used);
  std::memcpy(args, a, sizeof a);
  return area;
}

Parsed<pid_t> launch_traced(const std::vector<std::string>& command, const std::string& program,
                            const std::string& shim, const dune::TraceConfig& cfg, sighandler_t old_sigpipe,
                            const sigset_t& old_mask) {
  // The child's exec error comes back through this pipe (closed on success).
  int status_pipe[2];
  if (pipe2(status_pipe, O_CLOEXEC) != 0) return Parsed<pid_t>::fail(std::string("pipe: ") + std::strerror(errno));
  UniqueFd rd(status_pipe[0]), wr(status_pipe[1]);
  pid_t pid = fork();
  if (pid < 0) return Parsed<pid_t>::fail(std::string("fork: ") + std::strerror(errno));
  if (pid == 0) {
    // The program's signal state is its own, as if dunetrace were not there.
    signal(SIGPIPE, old_sigpipe == SIG_ERR ? SIG_DFL : old_sigpipe);
    sigprocmask(SIG_SETMASK, &old_mask, nullptr);
    dune::TraceConfig mine = cfg;
    mine.root = getpid();
    std::vector<std::string> env = traced_environment(shim, dune::encode_trace_config(mine));
    std::vector<char*> envp, argv;
    for (auto& s : env) envp.push_back(s.data());
    envp.push_back(nullptr);
    std::vector<std::string> args = command;
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
    waitpid(pid, nullptr, 0);
    return Parsed<pid_t>::fail("cannot run '" + program + "': " + std::strerror(err));
  }
  Parsed<pid_t> ok;
  ok.value = pid;
  return ok;
}

}  // namespace dunetrace
