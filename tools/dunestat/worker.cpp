#include "worker.h"

#include <dune/dune.h>
#include <fcntl.h>
#include <fmt/format.h>
#include <poll.h>
#include <sched.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <csignal>
#include <cstring>
#include <iterator>

#include "fault_handling.h"
#include "fd_io.h"
#include "floor_source.h"
#include "probes.h"
#include "stderr_capture.h"

namespace dunestat {
namespace {

// The order a worker measures in: the VM exit floor and the system call first,
// together (the floor ratio compares them).
constexpr RowId kOrder[] = {RowId::kExitFloor,  RowId::kSyscall, RowId::kTsc,    RowId::kKernelFault,
                            RowId::kUserFault,  RowId::kAppel1,  RowId::kAppel2, RowId::kThread,
                            RowId::kFork,       RowId::kSignal};
static_assert(std::size(kOrder) == kRowCount);

void send(int fd, const std::string& line) {
  if (!write_all(fd, line.data(), line.size())) _exit(4);  // the parent is gone: nobody to report to
}

void send_outcome(int fd, RowId id, const RowOutcome& o) {
  send(fd, o.summary ? summary_line(id, *o.summary) : missing_line(id, o.failed, o.missing));
}

void send_missing_all(int fd, const WorkerPlan& plan, const std::string& why) {
  for (const RowInfo& r : all_rows())
    if (plan.rows.test(row_index(r.id))) send(fd, missing_line(r.id, true, why));
}

// Measures the rows of `plan` in kOrder; the floor and the system call together.
void measure_all(Mode mode, const WorkerPlan& plan, std::optional<FloorSource>& floor, int out) {
  bool with_syscall = plan.rows.test(row_index(RowId::kSyscall));
  for (RowId id : kOrder) {
    if (!plan.rows.test(row_index(id))) continue;
    if (id == RowId::kExitFloor) {
      auto [f, s] = measure_floor_and_syscall(plan.budget, *floor, with_syscall);
      send_outcome(out, RowId::kExitFloor, f);
      if (with_syscall) send_outcome(out, RowId::kSyscall, s);
    } else if (id != RowId::kSyscall || !floor) {
      send_outcome(out, id, measure_row(id, mode, plan.budget));
    }
  }
}

// The body of the worker process; never returns.
[[noreturn]] void work(Mode mode, const WorkerPlan& plan, int out) {
  if (plan.cpu) {
    cpu_set_t set;
    CPU_ZERO(&set);
    CPU_SET(*plan.cpu, &set);
    if (sched_setaffinity(0, sizeof set, &set) != 0) {
      send_missing_all(out, plan, fmt::format("cannot pin to CPU {}: {}", *plan.cpu, std::strerror(errno)));
      send(out, end_line());
      _exit(0);
    }
  }
  // The floor is measured outside Dune mode: here, or by a helper forked now.
  std::optional<FloorSource> floor;
  if (plan.rows.test(row_index(RowId::kExitFloor)))
    floor.emplace(mode == Mode::kDune ? FloorSource::helper() : FloorSource::here());
  if (mode == Mode::kDune) {
    StderrCapture capture;
    int r = dune_init_and_enter();
    std::string said = capture.finish();
    if (r != 0) {
      send(out, unavailable_line(said.empty() ? fmt::format("dune_init_and_enter: {}", std::strerror(-r)) : said));
      if (floor) send_outcome(out, RowId::kExitFloor, measure_floor(plan.budget, *floor));
      floor.reset();
      send(out, end_line());
      _exit(0);
    }
    if (!said.empty()) fmt::print(stderr, "{}\n", said);  // warnings from a successful entry
    send(out, entered_line());
  }
  if (int r = install_fault_handler(mode); r != 0) {
    send_missing_all(out, plan, fmt::format("cannot install the fault handler: {}", std::strerror(-r)));
  } else {
    measure_all(mode, plan, floor, out);
  }
  floor.reset();
  send(out, end_line());
  _exit(0);
}

// How long a worker may go without sending a line: a row that takes much
// longer than its time budget has hung. No limit for a count of iterations.
int silence_limit_ms(const WorkerPlan& plan) {
  if (plan.budget.iterations) return -1;
  return static_cast<int>((60 + 4 * plan.budget.seconds) * 1000);
}

// Appends what fd delivers to *text until end of file (true), or until the
// worker has been silent too long (false).
bool read_until_eof(int fd, const WorkerPlan& plan, std::string* text) {
  char buf[4096];
  for (;;) {
    pollfd p{fd, POLLIN, 0};
    int r = poll(&p, 1, silence_limit_ms(plan));
    if (r < 0 && errno == EINTR) continue;
    if (r == 0) return false;
    ssize_t n = read(fd, buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return true;
    text->append(buf, static_cast<size_t>(n));
  }
}

std::string wait_status_text(int status) {
  if (WIFSIGNALED(status))
    return fmt::format("was killed by signal {} ({})", WTERMSIG(status), strsignal(WTERMSIG(status)));
  return fmt::format("exited with status {}", WEXITSTATUS(status));
}

}  // namespace

WorkerReport run_worker(Mode mode, const WorkerPlan& plan) {
  int fds[2];
  if (pipe2(fds, O_CLOEXEC) != 0) {
    WorkerReport r;
    r.mode = mode;
    r.trouble = fmt::format("cannot start the {} worker: pipe: {}", mode_name(mode), std::strerror(errno));
    return r;
  }
  std::fflush(nullptr);  // nothing buffered may be written twice
  pid_t pid = fork();
  if (pid == 0) {
    close(fds[0]);
    work(mode, plan, fds[1]);
  }
  close(fds[1]);
  std::string text;
  bool stopped = false;
  if (pid > 0) stopped = !read_until_eof(fds[0], plan, &text);
  close(fds[0]);
  if (stopped) kill(pid, SIGKILL);  // our own child, by its pid
  WorkerReport report = decode_worker_report(mode, text);
  std::string how;
  if (stopped) {
    how = fmt::format("sent nothing for {} s and was stopped", silence_limit_ms(plan) / 1000);
    while (waitpid(pid, nullptr, 0) < 0 && errno == EINTR) {
    }
  } else if (pid < 0) {
    how = fmt::format("cannot start: fork: {}", std::strerror(errno));
  } else {
    int status = 0;
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
    }
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) how = wait_status_text(status);
  }
  if (how.empty() && !report.complete) how = "stopped before its last line";
  if (!how.empty()) {
    std::string t = fmt::format("the {} worker {}", mode_name(mode), how);
    report.trouble = report.trouble.empty() ? t : t + "; " + report.trouble;
  }
  return report;
}

}  // namespace dunestat
