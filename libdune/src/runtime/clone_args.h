// clone_args.h - clone3's argument struct, read and checked as the kernel does.
//
// The library hands the kernel a clone3 struct of its own (a thread gets a host
// stack; a process keeps the parent's): the checks the kernel would have made of
// the program's struct itself, its size and its stack, are made here first, so
// that a struct Linux refuses is refused with Linux's errno.
#pragma once

#include <cerrno>
#include <cstddef>
#include <cstdint>
#include <cstring>

namespace dune {

// struct clone_args, up to CLONE_ARGS_SIZE_VER2.
struct CloneArgs {
  uint64_t flags, pidfd, child_tid, parent_tid, exit_signal, stack, stack_size, tls;
  uint64_t set_tid, set_tid_size, cgroup;
};
static_assert(sizeof(CloneArgs) == 88);

constexpr uint64_t kCloneArgsSizeVer0 = 64;
constexpr uint64_t kCloneArgsMaxSize = 4096;  // PAGE_SIZE
// TASK_SIZE_MAX with 4-level paging: the end of what access_ok accepts.
constexpr uint64_t kUserAddressEnd = (1ull << 47) - 4096;

// Reads the program's struct of `size` bytes at addr as copy_struct_from_user
// does: a shorter one is zero-extended, a longer one must be zero past what is
// known (E2BIG otherwise), a size out of [VER0, PAGE_SIZE] is refused, and any
// byte that cannot be read is EFAULT. read(dst, addr, n) copies from the
// program. 0 or -errno.
template <class Read>
int read_clone_args(uint64_t addr, uint64_t size, CloneArgs* out, Read read) {
  if (size > kCloneArgsMaxSize) return -E2BIG;
  if (size < kCloneArgsSizeVer0) return -EINVAL;
  std::memset(out, 0, sizeof *out);
  if (size > sizeof *out) {
    unsigned char tail[kCloneArgsMaxSize];
    size_t extra = size - sizeof *out;
    if (!read(tail, addr + sizeof *out, extra)) return -EFAULT;
    for (size_t i = 0; i < extra; ++i)
      if (tail[i]) return -E2BIG;
  }
  size_t n = size < sizeof *out ? size : sizeof *out;
  return read(out, addr, n) ? 0 : -EFAULT;
}

// The kernel's checks of the stack (clone3_stack_valid) and of the fields the
// library does not pass on as they are; the others (flags, exit signal, ids,
// pidfd) the kernel checks in the struct the library hands it. 0 or -EINVAL.
inline int check_clone_args(const CloneArgs& a) {
  if (a.set_tid_size > 32) return -EINVAL;  // MAX_PID_NS_LEVEL
  if (!a.set_tid && a.set_tid_size) return -EINVAL;
  if (a.set_tid && !a.set_tid_size) return -EINVAL;
  if (a.stack == 0) return a.stack_size ? -EINVAL : 0;
  if (a.stack_size == 0) return -EINVAL;
  if (a.stack_size > kUserAddressEnd || a.stack > kUserAddressEnd - a.stack_size) return -EINVAL;
  return 0;
}

}  // namespace dune
