// guest_memory.h - host access to guest memory that fails instead of crashing.
#pragma once

#include <sys/uio.h>

#include <cstddef>
#include <cstdint>

#include "base/raw_syscall.h"

namespace dune {

// Guest virtual == host virtual, but the address comes from the guest and may
// be anything: go through the kernel, which returns EFAULT for a bad one.
// The calling thread names the process: by the time a program's main thread
// has ended (SYS_exit, the others going on), its pid names a zombie without
// memory and the kernel answers ESRCH.
inline bool guest_rw(uint64_t addr, void* buf, size_t n, bool write) {
  iovec local{buf, n};
  iovec remote{reinterpret_cast<void*>(addr), n};
  return sys::syscall6(write ? SYS_process_vm_writev : SYS_process_vm_readv, sys::gettid(),
                       reinterpret_cast<long>(&local), 1, reinterpret_cast<long>(&remote), 1,
                       0) == static_cast<long>(n);
}

inline bool copy_to_guest(uint64_t addr, const void* src, size_t n) {
  return guest_rw(addr, const_cast<void*>(src), n, true);
}

inline bool copy_from_guest(void* dst, uint64_t addr, size_t n) { return guest_rw(addr, dst, n, false); }

}  // namespace dune
