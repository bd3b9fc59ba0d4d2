#include "syscalls/dispatch.h"

#include <sys/syscall.h>

#include "base/raw_syscall.h"
#include "classic/sandbox.h"
#include "debug/debug_stop.h"
#include "monitor/monitor.h"
#include "runtime/guest_thread.h"
#include "syscalls/handlers.h"
#include "trace/events.h"

namespace dune {

namespace {
long forward(const SyscallArgs& s, const void* queue) {
  return dune_forward(s.nr, static_cast<long>(s.a[0]), static_cast<long>(s.a[1]),
                      static_cast<long>(s.a[2]), static_cast<long>(s.a[3]),
                      static_cast<long>(s.a[4]), static_cast<long>(s.a[5]), queue);
}
}  // namespace

long forward_syscall(GuestThread& t, const SyscallArgs& s) {
  // Waiting signals hold a syscall back only where they can be delivered.
  return forward(s, t.signals_deliverable() ? t.pending_signals().indices() : nullptr);
}

long forward_syscall_always(const SyscallArgs& s) { return forward(s, nullptr); }

namespace {
struct PollCall {
  GuestThread* t;
  const SyscallArgs* s;
};
long run_poll(void* p) {
  auto* c = static_cast<PollCall*>(p);
  return c->s->nr == SYS_ppoll ? sys_with_temp_mask(*c->t, *c->s) : forward_syscall(*c->t, *c->s);
}
}  // namespace

long run_syscall(GuestThread& t, const SyscallArgs& s) {
  SyscallArgs hidden;
  if (hide_library_fds(s, t.vcpu().regs().rcx, &hidden)) {
    // select's sets are in the program's memory: a library number there is EBADF.
    if (s.nr == SYS_select || s.nr == SYS_pselect6) return -EBADF;
    return forward_syscall(t, hidden);
  }
  switch (s.nr) {
    case SYS_poll:
    case SYS_ppoll: {
      PollCall c{&t, &s};
      return with_library_fds_invalid_in_poll(s, &run_poll, &c);
    }
    case SYS_getdents64: return sys_getdents64(t, s);
    case SYS_mmap: return sys_mmap(t, s);
    case SYS_munmap: return sys_munmap(t, s);
    case SYS_mprotect:
    case SYS_pkey_mprotect: return sys_mprotect(t, s);
    case SYS_mremap: return sys_mremap(t, s);
    case SYS_brk: return sys_brk(t, s);
    case SYS_madvise: return sys_madvise(t, s);
    case SYS_shmat: return sys_shmat(t, s);
    case SYS_shmdt: return sys_shmdt(t, s);
    case SYS_remap_file_pages: return sys_remap_file_pages(t, s);
    case SYS_arch_prctl: return sys_arch_prctl(t, s);
    case SYS_dup2:
    case SYS_dup3: return sys_dup_onto(t, s);
    case SYS_close_range: return sys_close_range(t, s);
    case SYS_execve:
    case SYS_execveat: return sys_exec(t, s);
    case SYS_exit: return sys_exit(t, s);
    case SYS_exit_group: sys_exit_group(t, s);
    case SYS_clone: return sys_clone(t, s);
    case SYS_clone3: return sys_clone3(t, s);
    case SYS_fork: return sys_fork(t, s);
    case SYS_vfork: return sys_vfork(t, s);
    case SYS_rt_sigaction: return sys_rt_sigaction(t, s);
    case SYS_rt_sigreturn: return sys_rt_sigreturn(t, s);
    case SYS_rt_sigprocmask: return sys_rt_sigprocmask(t, s);
    case SYS_sigaltstack: return sys_sigaltstack(t, s);
    case SYS_rt_sigsuspend:
    case SYS_pselect6:
    case SYS_epoll_pwait:
    case SYS_epoll_pwait2: return sys_with_temp_mask(t, s);
    default: return forward_syscall(t, s);
  }
}

namespace {

// Writes the result back, or sets the guest up to issue the syscall again once
// a signal handler has run (the kernel's restart, done by the guest itself).
void complete(GuestThread& t, const SyscallArgs& s, long ret) {
  if (ret == kResumed) return;
  if (ret == kRestartSyscall) {
    kvm_regs& r = t.vcpu().regs();
    r.rcx -= Monitor::kSyscallInsnBytes;  // back onto the syscall instruction
    ret = s.nr;
    ++t.stats().syscalls_restarted;
  }
  t.finish_syscall(ret);
  // gdb's step of the syscall instruction ends here: the trap flag, masked on
  // the way in, would trap only after the next instruction.
  if (__builtin_expect(t.debug().stepping, 0) && debug::attached()) debug::step_ended(t);
}

}  // namespace

void dispatch_syscall(GuestThread& t) {
  const kvm_regs& r = t.vcpu().regs();
  SyscallArgs s{static_cast<long>(r.rax), {r.rdi, r.rsi, r.rdx, r.r10, r.r8, r.r9}};
  ThreadStats& st = t.stats();
  ++st.syscalls;
  if (static_cast<unsigned long>(s.nr) < static_cast<unsigned long>(kMaxSyscall)) ++st.syscalls_by_nr[s.nr];
  // A sandbox's syscall goes to its launcher's handler.
  if (__builtin_expect(t.sandbox.active, 0)) {
    if (sandbox_syscall(t, s)) return;
    // No handler: it passes through, and memory it maps is the sandbox's too.
    FollowSandbox follow(t);
    complete(t, s, run_syscall(t, s));
    return;
  }
  if (__builtin_expect(!trace::wanted(DUNE_EV_SYSCALL), 1)) {
    complete(t, s, run_syscall(t, s));
    return;
  }
  dune_tf tf;
  const bool regs = trace::regs_wanted();  // not with dunetrace -c
  if (regs) t.user_state(&tf);
  const bool no_return = s.nr == SYS_exit || s.nr == SYS_exit_group;
  if (no_return || trace::entry_wanted(s.nr)) {
    // exit and exit_group do not come back: their line is sent first, as
    // strace's "= ?". Others the listener asked to see before they run.
    dune_event ev{};
    ev.kind = DUNE_EV_SYSCALL;
    ev.flags = no_return ? DUNE_EVF_NO_RETURN : DUNE_EVF_ENTRY;
    ev.pid = t.tgid();
    ev.tid = t.tid();
    ev.regs = regs ? &tf : nullptr;
    ev.u.syscall.nr = s.nr;
    for (int i = 0; i < 6; ++i) ev.u.syscall.args[i] = s.a[i];
    trace::emit(ev);
  }
  uint64_t t0 = trace::rdtsc();
  long ret = run_syscall(t, s);
  dune_event ev{};
  ev.kind = DUNE_EV_SYSCALL;
  // The thread knows who it is: no getpid and gettid per event.
  ev.pid = t.tgid();
  ev.tid = t.tid();
  ev.tsc = trace::rdtsc();
  ev.cycles = ev.tsc - t0;
  ev.regs = regs ? &tf : nullptr;
  ev.u.syscall.nr = s.nr;
  for (int i = 0; i < 6; ++i) ev.u.syscall.args[i] = s.a[i];
  // Calls that set the registers themselves (rt_sigreturn, a fork's child)
  // left their result in rax. A new child's 0 is no line of its own: strace
  // shows the call once, in the parent.
  ev.u.syscall.ret = ret == kResumed ? static_cast<long>(t.vcpu().regs().rax) : ret;
  bool child_side = ret == kResumed && ev.u.syscall.ret == 0 &&
                    (s.nr == SYS_clone || s.nr == SYS_clone3 || s.nr == SYS_fork || s.nr == SYS_vfork);
  if (!child_side) trace::emit(ev);
  complete(t, s, ret);
}

}  // namespace dune
