#include "worker.h"

#include <dune/dune.h>
#include <fcntl.h>
#include <fmt/format.h>
#include <sched.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <csignal>
#include <cstring>

#include "fault_handling.h"
#include "probes.h"
#include "stderr_capture.h"

namespace dunestat {
namespace {

void send(int fd, const std::string& line) {
  size_t done = 0;
  while (done < line.size()) {
    ssize_t n = write(fd, line.data() + done, line.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) _exit(4);  // the parent is gone: nobody to report to
    done += static_cast<size_t>(n);
  }
}

void send_outcome(int fd, RowId id, const RowOutcome& o) {
  send(fd, o.summary ? summary_line(id, *o.summary) : missing_line(id, o.failed, o.missing));
}

void send_missing_rest(int fd, const WorkerPlan& plan, const std::string& why) {
  for (const RowInfo& r : all_rows())
    if (plan.rows.test(row_index(r.id)) && r.id != RowId::kExitFloor) send(fd, missing_line(r.id, true, why));
}

// The body of the worker process; never returns.
[[noreturn]] void work(Mode mode, const WorkerPlan& plan, int out) {
  if (plan.cpu) {
    cpu_set_t set;
    CPU_ZERO(&set);
    CPU_SET(*plan.cpu, &set);
    if (sched_setaffinity(0, sizeof set, &set) != 0) {
      send_missing_rest(out, plan, fmt::format("cannot pin to CPU {}: {}", *plan.cpu, std::strerror(errno)));
      send(out, end_line());
      _exit(0);
    }
  }
  // Both workers take the floor first, outside Dune mode.
  if (plan.rows.test(row_index(RowId::kExitFloor)))
    send_outcome(out, RowId::kExitFloor, measure_row(RowId::kExitFloor, plan.budget));
  if (mode == Mode::kDune) {
    StderrCapture capture;
    int r = dune_init_and_enter();
    std::string said = capture.finish();
    if (r != 0) {
      send(out, unavailable_line(said.empty() ? fmt::format("dune_init_and_enter: {}", std::strerror(-r)) : said));
      send(out, end_line());
      _exit(0);
    }
    if (!said.empty()) fmt::print(stderr, "{}\n", said);  // warnings from a successful entry
    send(out, entered_line());
  }
  if (int r = install_fault_handler(mode); r != 0) {
    send_missing_rest(out, plan, fmt::format("cannot install the fault handler: {}", std::strerror(-r)));
    send(out, end_line());
    _exit(0);
  }
  for (const RowInfo& row : all_rows())
    if (plan.rows.test(row_index(row.id)) && row.id != RowId::kExitFloor)
      send_outcome(out, row.id, measure_row(row.id, plan.budget));
  send(out, end_line());
  _exit(0);
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
  if (pid > 0) {
    char buf[4096];
    for (;;) {
      ssize_t n = read(fds[0], buf, sizeof buf);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) break;
      text.append(buf, static_cast<size_t>(n));
    }
  }
  close(fds[0]);
  WorkerReport report = decode_worker_report(mode, text);
  std::string how;
  if (pid < 0) {
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
