// log.h - the library's one logging function: formats on the stack, writes with write(2).
#pragma once

#include <fmt/format.h>

#include <atomic>
#include <cstddef>

namespace dune::log {

enum class Level : int { kError = 0, kWarn = 1, kInfo = 2, kDebug = 3 };

// Where messages go and how many: set from the environment by the preload
// shim, or by the program through the C API.
void set_level(Level level);
Level level();
void set_fd(int fd);
// Parses "error", "warn", "info" or "debug".
bool parse_level(const char* text, Level* out);

// Applies DUNE_LOG (error|warn|info|debug) and DUNE_LOG_FILE from the
// environment; a bad value is one warning naming the variable.
void configure_from_env();

bool enabled(Level level);
// Writes "dune: <text>\n" in one write(2); safe in a signal handler and on the
// host side of a guest (no malloc, no stdio, errno untouched).
void write_line(Level level, const char* text, size_t len);

template <typename... Args>
void message(Level lvl, fmt::format_string<Args...> f, Args&&... args) {
  if (!enabled(lvl)) return;
  char buf[1024];
  auto r = fmt::format_to_n(buf, sizeof(buf) - 1, f, std::forward<Args>(args)...);
  size_t n = r.size < sizeof(buf) - 1 ? r.size : sizeof(buf) - 1;
  write_line(lvl, buf, n);
}

template <typename... Args>
void error(fmt::format_string<Args...> f, Args&&... args) {
  message(Level::kError, f, std::forward<Args>(args)...);
}
template <typename... Args>
void warn(fmt::format_string<Args...> f, Args&&... args) {
  message(Level::kWarn, f, std::forward<Args>(args)...);
}
template <typename... Args>
void info(fmt::format_string<Args...> f, Args&&... args) {
  message(Level::kInfo, f, std::forward<Args>(args)...);
}
template <typename... Args>
void debug(fmt::format_string<Args...> f, Args&&... args) {
  message(Level::kDebug, f, std::forward<Args>(args)...);
}

// strerror without locale or TLS: a short name for the common errnos.
const char* errno_name(int err);

}  // namespace dune::log
