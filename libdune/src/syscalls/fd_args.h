// fd_args.h - which arguments of a syscall are file descriptors.
//
// The library's own descriptors must be to every call what a closed number is
// (EBADF), not only to close/dup/fcntl: a program listing its descriptors with
// fstat, or reading one by mistake, must not reach the VM's. This table says
// where each syscall takes a descriptor: plainly, or as a directory that only
// a relative path (or none) uses.
#pragma once

#include <cstdint>

namespace dune {

struct FdSpec {
  uint8_t fds = 0;  // bit i: argument i is a descriptor
  // Pairs (dirfd argument, path argument) of the *at calls: the descriptor
  // counts only for a path that is not absolute (a null path: the descriptor
  // itself, as utimensat takes it). 0xff: none.
  uint8_t dir[2] = {0xff, 0xff};
  uint8_t path[2] = {0xff, 0xff};
  bool any() const { return fds || dir[0] != 0xff; }
};

FdSpec fd_spec(long nr);

}  // namespace dune
