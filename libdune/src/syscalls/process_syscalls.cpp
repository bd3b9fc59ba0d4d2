// process_syscalls.cpp - syscalls that act on the vCPU: FS/GS bases, thread and process exit.
#include <asm/prctl.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>
#include <sys/syscall.h>

#include "base/log.h"
#include "base/own_fds.h"
#include "base/raw_syscall.h"
#include "debug/debug_stop.h"
#include "runtime/guest_memory.h"
#include "runtime/guest_thread.h"
#include "runtime/last_thread.h"
#include "runtime/runtime.h"
#include "runtime/stats_report.h"
#include "syscalls/handlers.h"
#include "syscalls/syscall_table.h"
#include "trace/events.h"

namespace dune {

namespace {
// Linux refuses bases at or above TASK_SIZE_MAX with EPERM.
constexpr uint64_t kTaskSizeMax = (1ull << 47) - 4096;
}  // namespace

long sys_arch_prctl(GuestThread& t, const SyscallArgs& s) {
  // The bases live in the vCPU. The host thread keeps its own FS: host-side
  // code (this library, libc) finds its TLS and stack canary through it.
  switch (s.a[0]) {
    case ARCH_SET_FS:
    case ARCH_SET_GS: {
      if (s.a[1] >= kTaskSizeMax) return -EPERM;
      uint32_t msr = s.a[0] == ARCH_SET_FS ? kvm::kMsrFsBase : kvm::kMsrGsBase;
      Status st = t.vcpu().set_msr(msr, s.a[1]);
      return st ? 0 : st.error();
    }
    case ARCH_GET_FS:
    case ARCH_GET_GS: {
      uint32_t msr = s.a[0] == ARCH_GET_FS ? kvm::kMsrFsBase : kvm::kMsrGsBase;
      auto v = t.vcpu().get_msr(msr);
      if (!v) return v.error();
      uint64_t value = v.value();
      return copy_to_guest(s.a[1], &value, sizeof(value)) ? 0 : -EFAULT;
    }
    default:
      return forward_syscall(t, s);
  }
}

long sys_exit(GuestThread& t, const SyscallArgs& s) {
  if (!t.ready_to_exit()) return kRestartSyscall;
  int status = static_cast<int>(s.a[0]);
  // Other threads in Dune mode: not the last (the scan is for native ones).
  bool alone = t.rt().counters.vcpus.load(std::memory_order_relaxed) <= 1;
  if (alone && t.tgid() == t.rt().pid && is_last_program_thread()) {
    // The process ends with this thread, with its status (last_thread.h).
    SyscallArgs group{SYS_exit_group, {static_cast<uint64_t>(status)}};
    sys_exit_group(t, group);
  }
  t.exit_thread(status);
}

void sys_exit_group(GuestThread& t, const SyscallArgs& s) {
  if (trace::wanted(DUNE_EV_THREAD)) trace::emit_task_end(true, static_cast<int>(s.a[0] & 0xff), 0);
  write_stats_report(t.rt(), "exit", static_cast<int>(s.a[0] & 0xff));
  debug::report_exit(static_cast<int>(s.a[0] & 0xff));
  // A table shared with the parent outlives this process: its VM goes now.
  if (own_fds::shares_parents_table()) own_fds::close_own();
  for (;;) forward_syscall_always(s);
}

namespace {

// Whether exec will likely succeed: the file is there, regular and executable
// for the effective ids. The kernel reads the guest's path (guest virtual ==
// host virtual), so a bad pointer is its EFAULT, not our crash. A shell
// searching PATH fails many execs; each must not end the process's report.
bool exec_may_succeed(const SyscallArgs& s) {
  int dirfd = AT_FDCWD;
  uint64_t path = s.a[0];
  int flags = 0;
  if (s.nr == SYS_execveat) {
    dirfd = static_cast<int>(s.a[0]);
    path = s.a[1];
    flags = static_cast<int>(s.a[4]) & (AT_EMPTY_PATH | AT_SYMLINK_NOFOLLOW);
  }
  struct stat st;
  if (sys::syscall6(SYS_newfstatat, dirfd, static_cast<long>(path), reinterpret_cast<long>(&st), flags) != 0)
    return false;
  if (!S_ISREG(st.st_mode)) return false;
  long r = sys::syscall6(SYS_faccessat2, dirfd, static_cast<long>(path), X_OK, AT_EACCESS | flags);
  return r == 0 || r == -ENOSYS;  // no faccessat2 (before 5.8): assume it may
}

}  // namespace

long sys_exec(GuestThread& t, const SyscallArgs& s) {
  // The image goes, the process stays: its report now (the new image, if it
  // enters Dune mode, makes its own); a failed exec just returns.
  if (exec_may_succeed(s)) {
    write_stats_report(t.rt(), "exec", 0);
    if (trace::wanted(DUNE_EV_EXEC)) trace::emit_exec(s.nr, s.a);
  }
  return forward_syscall(t, s);
}

}  // namespace dune
