#include "syscalls/dispatch.h"

#include <sys/syscall.h>

#include "base/raw_syscall.h"
#include "runtime/guest_thread.h"
#include "syscalls/handlers.h"
#include "trace/events.h"

namespace dune {

long forward_syscall(const SyscallArgs& s) {
  return sys::syscall6(s.nr, static_cast<long>(s.a[0]), static_cast<long>(s.a[1]),
                       static_cast<long>(s.a[2]), static_cast<long>(s.a[3]),
                       static_cast<long>(s.a[4]), static_cast<long>(s.a[5]));
}

namespace {

long run_syscall(GuestThread& t, const SyscallArgs& s) {
  switch (s.nr) {
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
    case SYS_exit: sys_exit(t, s);
    case SYS_exit_group: sys_exit_group(t, s);
    case SYS_clone:
    case SYS_clone3:
    case SYS_fork:
    case SYS_vfork: return sys_unsupported_task(t, s);
    default: return forward_syscall(s);
  }
}

}  // namespace

void dispatch_syscall(GuestThread& t) {
  const kvm_regs& r = t.vcpu().regs();
  SyscallArgs s{static_cast<long>(r.rax), {r.rdi, r.rsi, r.rdx, r.r10, r.r8, r.r9}};
  if (__builtin_expect(!trace::wanted(DUNE_EV_SYSCALL), 1)) {
    t.finish_syscall(run_syscall(t, s));
    return;
  }
  dune_tf tf;
  t.capture(&tf);
  uint64_t t0 = trace::rdtsc();
  long ret = run_syscall(t, s);
  dune_event ev{};
  ev.kind = DUNE_EV_SYSCALL;
  ev.cycles = trace::rdtsc() - t0;
  ev.regs = &tf;
  ev.u.syscall.nr = s.nr;
  for (int i = 0; i < 6; ++i) ev.u.syscall.args[i] = s.a[i];
  ev.u.syscall.ret = ret;
  trace::emit(ev);
  t.finish_syscall(ret);
}

}  // namespace dune
