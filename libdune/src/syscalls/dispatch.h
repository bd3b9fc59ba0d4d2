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

// The host performing the syscall as the program asked. Returns the result,
// or kRestartSyscall when a signal for the guest interrupted it and the kernel
// would restart it once the guest's handler has run.
long forward_syscall(const SyscallArgs& s);

// What forward_syscall returns for "restart after the handler" (ERESTARTSYS
// never reaches user space otherwise).
constexpr long kRestartSyscall = -512;

// What a handler returns when it has set the guest's whole state itself
// (rt_sigreturn, the child of a fork): no result to write back.
constexpr long kResumed = -0x7fffffffffffffffL;

}  // namespace dune

extern "C" {
long dune_forward(long nr, long a1, long a2, long a3, long a4, long a5, long a6);
extern char dune_forward_insn[], dune_forward_done[];
}

namespace dune {

}  // namespace dune
