// thread_debug.h - what the debugger keeps per guest thread: whether it is
// parked, its registers while it is, and how gdb resumed it.
#pragma once

#include <atomic>
#include <cstdint>

#include "debug/gdb_registers.h"

namespace dune::debug {

struct ThreadDebug {
  // 1 while parked (regs valid, the server may read and write them).
  std::atomic<uint32_t> parked{0};
  gdb::RegisterState regs;
  // Resumed by a single-step: the next #DB is the step's end.
  bool stepping = false;
  // The hardware breakpoints its vCPU has (hw_breakpoints.h's generation).
  uint32_t hw_gen = 0;
  // A breakpoint of gdb's lifted for one step of a thread that does not stop
  // for gdb (a vfork child's, which shares the memory): 0 if none.
  uint64_t lifted = 0;
  // The last time the server kicked it out of the guest (ms, monotonic).
  uint64_t kicked_ms = 0;
};

}  // namespace dune::debug
