// thread_stats.h - what one guest thread's vCPU did: exits, syscalls, faults, time.
#pragma once

#include <cstdint>

#include "syscalls/syscall_table.h"

namespace dune {

// Kept by the thread itself (plain counters, no contention); summed on demand.
struct ThreadStats {
  static constexpr int kExitKinds = 9;  // indexed by dune_exit_kind
  uint64_t exits = 0;
  uint64_t exits_by_kind[kExitKinds] = {};
  uint64_t syscalls = 0;
  uint64_t syscalls_by_nr[kMaxSyscall] = {};
  uint64_t faults_by_vector[32] = {};
  uint64_t signals = 0;
  // Syscalls a signal came before (docs/signals-and-syscalls.md): stopped at
  // the landing before their report and made again, and ones the host did not
  // start or the kernel wanted restarted, which the guest makes again after
  // its handler.
  uint64_t syscalls_backed_out = 0;
  uint64_t syscalls_restarted = 0;
  uint64_t guest_cycles = 0;  // inside KVM_RUN
  uint64_t host_cycles = 0;   // handling exits

  void add(const ThreadStats& o);
  uint64_t faults() const;
};

}  // namespace dune
