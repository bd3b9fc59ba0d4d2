#include "signals/fatal_signal.h"

#include <csignal>
#include <cstdint>

#include "base/own_fds.h"
#include "base/raw_syscall.h"

namespace dune {

namespace {
void (*g_death_hook)(int) = nullptr;
}

void set_death_hook(void (*fn)(int)) { g_death_hook = fn; }

[[noreturn]] void die_with_signal(int signo) {
  if (auto hook = g_death_hook) {
    g_death_hook = nullptr;
    hook(signo);
  }
  // A table shared with the parent outlives this process: its VM goes now.
  if (own_fds::shares_parents_table()) own_fds::close_own();
  // The kernel's sigaction layout: handler, flags, restorer, mask.
  struct {
    uintptr_t handler;
    unsigned long flags;
    uintptr_t restorer;
    uint64_t mask;
  } dfl{};
  dfl.handler = 0;  // SIG_DFL
  sys::syscall6(SYS_rt_sigaction, signo, reinterpret_cast<long>(&dfl), 0, 8);
  uint64_t set = 1ull << (signo - 1);
  sys::syscall6(SYS_rt_sigprocmask, SIG_UNBLOCK, reinterpret_cast<long>(&set), 0, 8);
  sys::syscall6(SYS_tgkill, sys::getpid(), sys::gettid(), signo);
  // Only reachable for a signal whose default is to continue.
  for (;;) sys::syscall6(SYS_exit_group, 128 + signo);
}

}  // namespace dune
