// guest_memory.h - host access to guest memory that fails instead of crashing.
#pragma once

#include <sys/uio.h>

#include <cstddef>
#include <cstdint>

#include "base/raw_syscall.h"

namespace dune {

// Guest virtual == host virtual, but the address comes from the guest and may
// be anything: go through the kernel, which returns EFAULT for a bad one.
inline bool copy_to_guest(uint64_t addr, const void* src, size_t n) {
  iovec local{const_cast<void*>(src), n};
  iovec remote{reinterpret_cast<void*>(addr), n};
  return sys::syscall6(SYS_process_vm_writev, sys::getpid(), reinterpret_cast<long>(&local), 1,
                       reinterpret_cast<long>(&remote), 1, 0) == static_cast<long>(n);
}

inline bool copy_from_guest(void* dst, uint64_t addr, size_t n) {
  iovec local{dst, n};
  iovec remote{reinterpret_cast<void*>(addr), n};
  return sys::syscall6(SYS_process_vm_readv, sys::getpid(), reinterpret_cast<long>(&local), 1,
                       reinterpret_cast<long>(&remote), 1, 0) == static_cast<long>(n);
}

}  // namespace dune
