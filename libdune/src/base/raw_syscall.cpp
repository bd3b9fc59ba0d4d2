#include "base/raw_syscall.h"

// The addresses of syscall6's `syscall` instructions, gathered by the linker
// (in this DSO, or this executable when linked statically).
extern "C" {
extern const int32_t __start_dune_raw_syscalls[] __attribute__((visibility("hidden")));
extern const int32_t __stop_dune_raw_syscalls[] __attribute__((visibility("hidden")));
}

namespace dune::sys {

bool is_library_syscall(uint64_t return_rip) {
  constexpr uint64_t kSyscallBytes = 2;
  for (const int32_t* p = __start_dune_raw_syscalls; p < __stop_dune_raw_syscalls; ++p)
    if (reinterpret_cast<uint64_t>(p) + static_cast<int64_t>(*p) + kSyscallBytes == return_rip) return true;
  return false;
}

}  // namespace dune::sys
