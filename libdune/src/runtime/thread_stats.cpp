#include "runtime/thread_stats.h"

namespace dune {

void ThreadStats::add(const ThreadStats& o) {
  exits += o.exits;
  for (int i = 0; i < kExitKinds; ++i) exits_by_kind[i] += o.exits_by_kind[i];
  syscalls += o.syscalls;
  for (long i = 0; i < kMaxSyscall; ++i) syscalls_by_nr[i] += o.syscalls_by_nr[i];
  for (int i = 0; i < 32; ++i) faults_by_vector[i] += o.faults_by_vector[i];
  signals += o.signals;
  syscalls_backed_out += o.syscalls_backed_out;
  syscalls_restarted += o.syscalls_restarted;
  guest_cycles += o.guest_cycles;
  host_cycles += o.host_cycles;
}

uint64_t ThreadStats::faults() const {
  uint64_t n = 0;
  for (uint64_t f : faults_by_vector) n += f;
  return n;
}

}  // namespace dune
