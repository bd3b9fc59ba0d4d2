// dispatch.h - runs the syscall a guest thread stopped at, and resumes it.
#pragma once

#include <cstdint>

namespace dune {

class GuestThread;

struct SyscallArgs {
  long nr;
  uint64_t a[6];
};

// Forwards the syscall with the program's own arguments, or hands it to the
// library where it touches the VM; then returns to the guest.
void dispatch_syscall(GuestThread& t);

// The host performing the syscall as the program asked.
long forward_syscall(const SyscallArgs& s);

}  // namespace dune
