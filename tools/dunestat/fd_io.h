// fd_io.h - whole reads and writes on pipes, through EINTR and short counts.
#pragma once

#include <unistd.h>

#include <cerrno>
#include <cstddef>

namespace dunestat {

namespace detail {
// Calls io(fd, p, left) until n bytes have moved; false at end of file or an error.
template <typename Io, typename Byte>
bool move_all(Io io, int fd, Byte* p, size_t n) {
  while (n) {
    ssize_t r = io(fd, p, n);
    if (r < 0 && errno == EINTR) continue;
    if (r <= 0) return false;
    p += r;
    n -= static_cast<size_t>(r);
  }
  return true;
}
}  // namespace detail

inline bool read_all(int fd, void* buf, size_t n) { return detail::move_all(::read, fd, static_cast<char*>(buf), n); }
inline bool write_all(int fd, const void* buf, size_t n) {
  return detail::move_all(::write, fd, static_cast<const char*>(buf), n);
}

}  // namespace dunestat
