// dispatch.h - runs the syscall a guest thread stopped at, and resumes it.
#pragma once

#include <cstdint>

namespace dune {

class GuestThread;

struct SyscallArgs {
  long nr;
  uint64_t a[6];
};

// Runs syscall s for t (the library's handler or the host's syscall) and
// returns its result, without resuming the guest.
long run_syscall(GuestThread& t, const SyscallArgs& s);

// Forwards the syscall with the program's own arguments, or hands it to the
// library where it touches the VM; then returns to the guest.
void dispatch_syscall(GuestThread& t);

// The host performing the syscall as the program asked, for guest thread t.
// Returns the result, or kRestartSyscall when it did not start because a
// signal for t was already waiting, or when a signal for the guest
// interrupted it and the kernel would restart it once the guest's handler has
// run: the guest then makes it again, after the handler (forward.S).
long forward_syscall(GuestThread& t, const SyscallArgs& s);
// The same, started whatever waits and restarted by the kernel itself where
// it must: for syscalls that never wait for an event (the memory ones, whose
// bookkeeping around them is costly to undo) and for exit_group.
long forward_syscall_always(const SyscallArgs& s);

// What forward_syscall returns for "make it again after the handler"
// (ERESTARTSYS never reaches user space otherwise).
constexpr long kRestartSyscall = -512;

// What a handler returns when it has set the guest's whole state itself
// (rt_sigreturn, the child of a fork): no result to write back.
constexpr long kResumed = -0x7fffffffffffffffL;

}  // namespace dune

extern "C" {
long dune_forward(long nr, long a1, long a2, long a3, long a4, long a5, long a6, const void* queue);
extern char dune_forward_check[], dune_forward_insn[], dune_forward_done[];
}
