#include "runtime/tracer.h"

#include <cstdio>

#include "base/raw_syscall.h"

namespace dune {

long tracer_pid_in_status(std::string_view status) {
  constexpr std::string_view kField = "TracerPid:";
  for (size_t at = 0; at < status.size();) {
    size_t end = status.find('\n', at);
    if (end == std::string_view::npos) end = status.size();
    std::string_view line = status.substr(at, end - at);
    at = end + 1;
    if (line.substr(0, kField.size()) != kField) continue;
    line.remove_prefix(kField.size());
    while (!line.empty() && (line.front() == ' ' || line.front() == '\t')) line.remove_prefix(1);
    if (line.empty()) return -1;
    long pid = 0;
    for (char c : line) {
      if (c < '0' || c > '9' || pid > 1'000'000'000) return -1;
      pid = pid * 10 + (c - '0');
    }
    return pid;
  }
  return -1;
}

Tracer current_tracer() {
  Tracer t;
  char status[4096];
  long n = sys::read_small_file("/proc/thread-self/status", status, sizeof status);
  long pid = tracer_pid_in_status(std::string_view(status, n > 0 ? static_cast<size_t>(n) : 0));
  if (pid <= 0) return t;
  t.pid = pid;
  char path[48];
  std::snprintf(path, sizeof path, "/proc/%ld/comm", pid);
  long got = sys::read_small_file(path, t.name, sizeof t.name - 1);
  size_t len = got > 0 ? static_cast<size_t>(got) : 0;
  while (len > 0 && (t.name[len - 1] == '\n' || t.name[len - 1] == ' ')) --len;
  t.name[len] = 0;
  return t;
}

}  // namespace dune
