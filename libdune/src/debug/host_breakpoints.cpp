#include "debug/host_breakpoints.h"

#include <signal.h>
#include <ucontext.h>

#include <atomic>
#include <cstdint>

#include "base/raw_syscall.h"
#include "debug/target_memory.h"
#include "signals/host_signals.h"
#include "signals/signal_table.h"

namespace dune::debug {

namespace {

constexpr uint64_t kFlagTf = 1ull << 8;
constexpr int kSlots = 64;
// Breakpoints lifted for one host instruction, by thread.
struct Lifted {
  std::atomic<int> tid{0};
  uint64_t addr = 0;
};
Lifted g_lifted[kSlots];

Lifted* slot_of(int tid) {
  for (Lifted& l : g_lifted)
    if (l.tid.load(std::memory_order_acquire) == tid) return &l;
  return nullptr;
}

// Not one of gdb's: a trap of the library's own host code, which ends the
// process as it would have without a debugger.
[[noreturn]] void die_of_trap() {
  KernelSigaction dfl{};
  sys::syscall6(SYS_rt_sigaction, SIGTRAP, reinterpret_cast<long>(&dfl), 0, 8);
  uint64_t set = sigbit(SIGTRAP);
  sys::syscall6(SYS_rt_sigprocmask, SIG_UNBLOCK, reinterpret_cast<long>(&set), 0, 8);
  sys::syscall6(SYS_tgkill, sys::getpid(), sys::gettid(), SIGTRAP);
  for (;;) sys::syscall6(SYS_exit_group, 128 + SIGTRAP);
}

extern "C" void dune_host_trap(int, siginfo_t*, void* ucv) {
  auto* uc = static_cast<ucontext_t*>(ucv);
  greg_t& rip = uc->uc_mcontext.gregs[REG_RIP];
  greg_t& flags = uc->uc_mcontext.gregs[REG_EFL];
  int tid = static_cast<int>(sys::gettid());
  if (Lifted* l = slot_of(tid)) {
    // The lifted instruction ran: its int3 back, if gdb still wants it.
    reinsert_breakpoint(l->addr);
    l->tid.store(0, std::memory_order_release);
    flags &= ~static_cast<greg_t>(kFlagTf);
    return;
  }
  uint64_t at = static_cast<uint64_t>(rip) - 1;
  if (!is_breakpoint(at)) die_of_trap();
  for (Lifted& l : g_lifted) {
    int free_slot = 0;
    if (!l.tid.compare_exchange_strong(free_slot, tid)) continue;
    l.addr = at;
    rip = static_cast<greg_t>(at);
    if (!lift_breakpoint(at)) {  // removed by gdb meanwhile: the byte is back already
      l.tid.store(0, std::memory_order_release);
      return;
    }
    flags |= static_cast<greg_t>(kFlagTf);
    return;
  }
  die_of_trap();
}

}  // namespace

bool reserve_host_breakpoints() { return reserve_host_signal(SIGTRAP, &dune_host_trap); }

void release_host_breakpoints() { release_host_signal(SIGTRAP); }

}  // namespace dune::debug
