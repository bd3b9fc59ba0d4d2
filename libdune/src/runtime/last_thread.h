// last_thread.h - whether a thread's SYS_exit ends its process.
//
// The kernel counts KVM's own worker task (kvm-nx-lpage-recovery, a user
// worker of the process that made the VM) among the process's threads. A
// process whose last program thread ends with SYS_exit, not exit_group, would
// stay behind as a zombie, held by a worker that only ends with the whole
// thread group: so the last program thread's exit becomes an exit_group, with
// the status Linux reports for such a process.
#pragma once

namespace dune {

// True if no other task of the calling process may run program code: every
// other one, if any, is a kernel worker (PF_USER_WORKER) or has exited (a
// main thread that ended first). Reads /proc/self/task.
bool is_last_program_thread();

}  // namespace dune
