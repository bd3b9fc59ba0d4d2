#include "base/log.h"

#include <fcntl.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>

#include "base/own_fds.h"
#include "base/raw_syscall.h"

namespace dune::log {
namespace {
std::atomic<int> g_level{static_cast<int>(Level::kWarn)};
std::atomic<int> g_fd{2};
}  // namespace

void set_level(Level lvl) { g_level.store(static_cast<int>(lvl), std::memory_order_relaxed); }
Level level() { return static_cast<Level>(g_level.load(std::memory_order_relaxed)); }
void set_fd(int fd) { g_fd.store(fd, std::memory_order_relaxed); }

bool parse_level(const char* text, Level* out) {
  static constexpr struct {
    const char* name;
    Level level;
  } kNames[] = {{"error", Level::kError}, {"warn", Level::kWarn}, {"info", Level::kInfo},
                {"debug", Level::kDebug}};
  for (const auto& n : kNames) {
    if (std::strcmp(text, n.name) == 0) {
      *out = n.level;
      return true;
    }
  }
  return false;
}

void configure_from_env() {
  static std::atomic<bool> done{false};
  if (done.exchange(true)) return;
  if (const char* file = std::getenv("DUNE_LOG_FILE"); file && *file) {
    long fd = sys::open(file, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
    if (fd >= 0)
      set_fd(own_fds::adopt(static_cast<int>(fd)));
    else
      warn("DUNE_LOG_FILE='{}' cannot be opened ({}); logging to stderr", file,
           errno_name(static_cast<int>(fd)));
  }
  if (const char* v = std::getenv("DUNE_LOG"); v && *v) {
    Level l;
    if (parse_level(v, &l))
      set_level(l);
    else
      warn("DUNE_LOG='{}' is not one of error, warn, info, debug; using warn", v);
  }
}

bool enabled(Level lvl) {
  return static_cast<int>(lvl) <= g_level.load(std::memory_order_relaxed);
}

void write_line(Level, const char* text, size_t len) {
  char buf[1100];
  static constexpr char kPrefix[] = "dune: ";
  size_t n = sizeof(kPrefix) - 1;
  std::memcpy(buf, kPrefix, n);
  if (len > sizeof(buf) - n - 1) len = sizeof(buf) - n - 1;
  std::memcpy(buf + n, text, len);
  n += len;
  buf[n++] = '\n';
  sys::write_all(own_fds::current(g_fd.load(std::memory_order_relaxed)), buf, n);
}

const char* errno_name(int err) {
  if (err < 0) err = -err;
  switch (err) {
    case EPERM: return "operation not permitted";
    case ENOENT: return "no such file or directory";
    case EINTR: return "interrupted";
    case EIO: return "I/O error";
    case ENXIO: return "no such device or address";
    case E2BIG: return "argument list too long";
    case EBADF: return "bad file descriptor";
    case EAGAIN: return "resource temporarily unavailable";
    case ENOMEM: return "out of memory";
    case EACCES: return "permission denied";
    case EFAULT: return "bad address";
    case EBUSY: return "device or resource busy";
    case EEXIST: return "file exists";
    case ENODEV: return "no such device";
    case EINVAL: return "invalid argument";
    case ENOSPC: return "no space left";
    case ERANGE: return "result out of range";
    case ENOSYS: return "function not implemented";
    case ENOTTY: return "inappropriate ioctl";
    case EALREADY: return "already done";
    case EOPNOTSUPP: return "not supported";
    default: return "error";
  }
}

}  // namespace dune::log
