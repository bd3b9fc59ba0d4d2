// stack_check.h - is the guest's stack pointer on a stack? (the badstack event)
#pragma once

#include <cstdint>

namespace dune {

class GuestThread;

// The stacks a thread may run on, learnt as it runs: the mapping it started on
// (the main stack with room to grow down to RLIMIT_STACK) and the last
// sigaltstack it had armed (an SS_AUTODISARM stack is disarmed while in use).
struct ThreadStacks {
  uint64_t anchor = 0;  // the thread's first rsp
  uint64_t lo = 0, hi = 0;  // its stack, [lo, hi]; hi == 0: not looked up yet
  uint64_t alt_lo = 0, alt_hi = 0;
};

// With DUNE_EV_BADSTACK wanted, at a VM exit: emits the event when the guest's
// rsp is on none of the thread's stacks nor in any other stack mapping.
void check_guest_stack(GuestThread& t);

}  // namespace dune
