// signal_syscalls.cpp - the signal syscalls whose state lives in the library:
// the program's actions, its sigaltstack, returning from its handlers.
#include <signal.h>
#include <sys/syscall.h>

#include <mutex>

#include "runtime/guest_memory.h"
#include "runtime/guest_thread.h"
#include "signals/fatal_signal.h"
#include "signals/host_signals.h"
#include "signals/signal_delivery.h"
#include "syscalls/handlers.h"

namespace dune {

long sys_rt_sigaction(GuestThread& t, const SyscallArgs& s) {
  int sig = static_cast<int>(s.a[0]);
  uint64_t act_ptr = s.a[1], old_ptr = s.a[2];
  // The kernel's order: the set's size, then reading the new action (EFAULT),
  // then the signal (EINVAL): a bad pointer for SIGKILL is EFAULT there.
  if (s.a[3] != sizeof(uint64_t)) return -EINVAL;
  KernelSigaction act{};
  if (act_ptr && !copy_from_guest(&act, act_ptr, sizeof act)) return -EFAULT;
  if (sig < 1 || sig > kMaxSignal) return -EINVAL;
  if (act_ptr && (sig == SIGKILL || sig == SIGSTOP)) return -EINVAL;
  act.mask &= ~kUnblockable;
  SignalTable& table = t.sigtable();
  KernelSigaction old;
  {
    std::lock_guard<SpinLock> g(table.lock());
    old = table.get(sig);
    if (act_ptr) {
      // The kernel keeps SIG_DFL/SIG_IGN itself; a handler becomes the library's.
      Status st = install_host_action(sig, act);
      if (!st) return st.error();
      table.set(sig, act);
    }
  }
  if (old_ptr && !copy_to_guest(old_ptr, &old, sizeof old)) return -EFAULT;
  return 0;
}

long sys_rt_sigreturn(GuestThread& t, const SyscallArgs&) {
  // A bad frame kills with SIGSEGV, as Linux's sigreturn does.
  if (!restore_signal_frame(t)) die_with_signal(SIGSEGV);
  return kResumed;
}

long sys_sigaltstack(GuestThread& t, const SyscallArgs& s) {
  uint64_t ss_ptr = s.a[0], old_ptr = s.a[1];
  AltStack& alt = t.altstack();
  dune_tf at;
  t.user_state(&at);
  bool on = alt.contains(at.rsp);
  stack_t old{};
  old.ss_sp = reinterpret_cast<void*>(alt.sp);
  old.ss_size = alt.size;
  old.ss_flags = (alt.flags & SS_DISABLE) ? int{SS_DISABLE} : ((on ? int{SS_ONSTACK} : 0) | (alt.flags & kSsAutodisarm));
  if (ss_ptr) {
    stack_t ss;
    if (!copy_from_guest(&ss, ss_ptr, sizeof ss)) return -EFAULT;
    if (on) return -EPERM;
    int mode = ss.ss_flags & ~kSsAutodisarm;
    if (mode != SS_DISABLE && mode != SS_ONSTACK && mode != 0) return -EINVAL;
    if (mode == SS_DISABLE) {
      alt = AltStack{};
    } else {
      if (ss.ss_size < kKernelMinSigStackSize) return -ENOMEM;
      alt = AltStack{reinterpret_cast<uint64_t>(ss.ss_sp), ss.ss_size, ss.ss_flags & kSsAutodisarm};
    }
  }
  if (old_ptr && !copy_to_guest(old_ptr, &old, sizeof old)) return -EFAULT;
  return 0;
}

long sys_with_temp_mask(GuestThread& t, const SyscallArgs& s) {
  long ret = forward_syscall(t, s);
  // Not run (a signal came first): no temporary mask was ever in force.
  if (ret == kRestartSyscall || t.pending_signals().empty()) return ret;
  // Where the syscall took a mask for its duration, a handler it was
  // interrupted for runs under that mask (Linux's saved_sigmask).
  uint64_t mask_ptr = 0;
  switch (s.nr) {
    case SYS_rt_sigsuspend: mask_ptr = s.a[0]; break;
    case SYS_ppoll: mask_ptr = s.a[3]; break;
    case SYS_epoll_pwait:
    case SYS_epoll_pwait2: mask_ptr = s.a[4]; break;
    case SYS_pselect6: {
      struct {
        uint64_t ss;
        uint64_t len;
      } arg{};
      if (s.a[5] && copy_from_guest(&arg, s.a[5], sizeof arg)) mask_ptr = arg.ss;
      break;
    }
  }
  uint64_t mask;
  if (mask_ptr && copy_from_guest(&mask, mask_ptr, sizeof mask)) {
    t.temp_mask = mask & ~kUnblockable;
    t.temp_mask_set = true;
  }
  return ret;
}

long sys_rt_sigprocmask(GuestThread& t, const SyscallArgs& s) {
  uint64_t reserved = reserved_signals();
  if (!reserved || !s.a[1] || s.a[0] == SIG_UNBLOCK) return forward_syscall(t, s);
  uint64_t set;
  if (!copy_from_guest(&set, s.a[1], sizeof set)) return -EFAULT;
  set &= ~reserved;
  SyscallArgs kept = s;
  kept.a[1] = reinterpret_cast<uint64_t>(&set);
  return forward_syscall(t, kept);
}

}  // namespace dune
