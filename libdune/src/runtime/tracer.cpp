#include "runtime/tracer.h"

#include <fcntl.h>

#include <cerrno>
#include <cstdio>

#include "base/raw_syscall.h"

namespace dune {

namespace {

// Up to cap bytes of a small /proc file into buf; the length, 0 if unreadable.
size_t read_small(const char* path, char* buf, size_t cap) {
  long fd = sys::open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return 0;
  size_t used = 0;
  while (used < cap) {
    long n = sys::read(static_cast<int>(fd), buf + used, cap - used);
    if (n == -EINTR) continue;
    if (n <= 0) break;
    used += static_cast<size_t>(n);
  }
  sys::close(static_cast<int>(fd));
  return used;
}

}  // namespace

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
  size_t n = read_small("/proc/thread-self/status", status, sizeof status);
  long pid = tracer_pid_in_status(std::string_view(status, n));
  if (pid <= 0) return t;
  t.pid = pid;
  char path[48];
  std::snprintf(path, sizeof path, "/proc/%ld/comm", pid);
  size_t len = read_small(path, t.name, sizeof t.name - 1);
  while (len > 0 && (t.name[len - 1] == '\n' || t.name[len - 1] == ' ')) --len;
  t.name[len] = 0;
  return t;
}

}  // namespace dune
