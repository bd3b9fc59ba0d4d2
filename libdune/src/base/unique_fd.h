// unique_fd.h - an owned file descriptor, closed once.
#pragma once

#include <utility>

#include "base/own_fds.h"
#include "base/raw_syscall.h"

namespace dune {

// An owned file descriptor of the library's, closed once. It lives where
// own_fds puts it (a high number, out of the program's way); fd_ is the number
// it was first given, and get() says where it is now.
class UniqueFd {
 public:
  UniqueFd() = default;
  // Takes fd (just opened by the library) and moves it out of the program's way.
  static UniqueFd adopt(int fd) { return UniqueFd(own_fds::adopt(fd)); }
  // Opens one with make() (the descriptor or -errno) as own_fds::create does.
  template <class Make>
  static long create(UniqueFd* out, Make make) {
    long name = own_fds::create(make);
    if (name >= 0) *out = UniqueFd(static_cast<int>(name));
    return name;
  }
  explicit UniqueFd(int fd) : fd_(fd) {}
  UniqueFd(UniqueFd&& o) noexcept : fd_(std::exchange(o.fd_, -1)) {}
  UniqueFd& operator=(UniqueFd&& o) noexcept {
    if (this != &o) reset(std::exchange(o.fd_, -1));
    return *this;
  }
  UniqueFd(const UniqueFd&) = delete;
  UniqueFd& operator=(const UniqueFd&) = delete;
  ~UniqueFd() { reset(); }

  int get() const { return fd_ < 0 ? fd_ : own_fds::current(fd_); }
  bool valid() const { return fd_ >= 0; }
  int release() { return std::exchange(fd_, -1); }
  void reset(int fd = -1) {
    if (fd_ >= 0) own_fds::close(fd_);
    fd_ = fd;
  }

 private:
  int fd_ = -1;
};

}  // namespace dune
