// handlers.h - the syscalls the library handles itself, one function each.
#pragma once

#include "syscalls/dispatch.h"

namespace dune {

class GuestThread;

// Memory (memory_syscalls.cpp): forward, then keep slots and page tables in step.
long sys_mmap(GuestThread& t, const SyscallArgs& s);
long sys_munmap(GuestThread& t, const SyscallArgs& s);
long sys_mprotect(GuestThread& t, const SyscallArgs& s);
long sys_mremap(GuestThread& t, const SyscallArgs& s);
long sys_brk(GuestThread& t, const SyscallArgs& s);
long sys_madvise(GuestThread& t, const SyscallArgs& s);
long sys_shmat(GuestThread& t, const SyscallArgs& s);
long sys_shmdt(GuestThread& t, const SyscallArgs& s);
long sys_remap_file_pages(GuestThread& t, const SyscallArgs& s);

// Signals (signals/signal_syscalls.cpp).
long sys_rt_sigaction(GuestThread& t, const SyscallArgs& s);
long sys_rt_sigreturn(GuestThread& t, const SyscallArgs& s);
// Forwarded, but a signal the library reserved (a debugger's kick) stays unblocked.
long sys_rt_sigprocmask(GuestThread& t, const SyscallArgs& s);
long sys_sigaltstack(GuestThread& t, const SyscallArgs& s);
// rt_sigsuspend, ppoll, pselect6, epoll_pwait(2): a temporary mask until a handler runs.
long sys_with_temp_mask(GuestThread& t, const SyscallArgs& s);

// Tasks (runtime/task_spawn.cpp): threads, fork, vfork.
long sys_clone(GuestThread& t, const SyscallArgs& s);
long sys_clone3(GuestThread& t, const SyscallArgs& s);
long sys_fork(GuestThread& t, const SyscallArgs& s);
long sys_vfork(GuestThread& t, const SyscallArgs& s);

// Descriptors (fd_syscalls.cpp): the library's own stay out of the program's reach.
long sys_dup_onto(GuestThread& t, const SyscallArgs& s);     // dup2, dup3
long sys_close_range(GuestThread& t, const SyscallArgs& s);
// fd_visibility.cpp: to every other call the library's descriptors are closed numbers.
// True if the call names one of them (not from the library's own code: return_rip, the
// guest's RCX, tells): hidden is then the call with each made a number never open.
bool hide_library_fds(const SyscallArgs& s, uint64_t return_rip, SyscallArgs* hidden);
// Runs run(ctx) (a poll or ppoll) with the library's descriptors in the
// program's pollfd array made invalid (POLLNVAL), and puts them back.
long with_library_fds_invalid_in_poll(const SyscallArgs& s, long (*run)(void*), void* ctx);
long sys_getdents64(GuestThread& t, const SyscallArgs& s);  // no library entry in /proc/self/fd

// Process (process_syscalls.cpp).
long sys_arch_prctl(GuestThread& t, const SyscallArgs& s);
// Ends the thread; or kRestartSyscall when signals for it wait (they first).
long sys_exit(GuestThread& t, const SyscallArgs& s);
[[noreturn]] void sys_exit_group(GuestThread& t, const SyscallArgs& s);
long sys_exec(GuestThread& t, const SyscallArgs& s);

}  // namespace dune
