// device_problem.h - why a device cannot be used, in words for one log line.
//
// The same problem is an error when the device was asked for and an info line
// when another device is used instead: whoever decides frames the words.
#pragma once

#include <fmt/format.h>

#include <cerrno>
#include <utility>

#include "base/log.h"

namespace dune {

// What a failed open of a device means (err: a negative errno).
enum class OpenFailure { kMissing, kNoPermission, kOther };
inline OpenFailure open_failure_of(int err) {
  if (err == -ENOENT || err == -ENODEV || err == -ENXIO) return OpenFailure::kMissing;  // no node, or no driver
  if (err == -EACCES || err == -EPERM) return OpenFailure::kNoPermission;
  return OpenFailure::kOther;
}

struct DeviceProblem {
  char text[256] = {};  // e.g. "/dev/dune speaks ABI version 2, this libdune needs 1"

  template <typename... Args>
  void say(fmt::format_string<Args...> f, Args&&... args) {
    auto r = fmt::format_to_n(text, sizeof(text) - 1, f, std::forward<Args>(args)...);
    text[r.size < sizeof(text) - 1 ? r.size : sizeof(text) - 1] = '\0';
  }

  // Why open(path) failed with err.
  void say_open_failed(const char* path, int err) {
    switch (open_failure_of(err)) {
      case OpenFailure::kMissing: return say("{} does not exist", path);
      case OpenFailure::kNoPermission: return say("no permission to open {}", path);
      case OpenFailure::kOther: return say("opening {} failed: {}", path, log::errno_name(err));
    }
  }
};

}  // namespace dune
