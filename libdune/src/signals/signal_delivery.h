// signal_delivery.h - signals to the program: frames on its stack, its handlers in the guest.
#pragma once

#include <cstdint>

#include "signals/signal_table.h"

namespace dune {

class GuestThread;

// Delivers one signal of the thread's queue: a frame and a jump to the
// program's handler; or, where the program now ignores it, blocks it or wants
// the default action, hands it back to the kernel, which does what Linux does.
void deliver_pending_signal(GuestThread& t);

// A fault the library turns into the signal Linux sends (from a guest
// exception or a host refusal). Delivered to the program's handler if it has
// one that can run (not SIG_DFL/SIG_IGN, not blocked); false otherwise, when
// Linux would kill the process.
struct FaultSignal {
  int signo;
  int code;       // si_code: SEGV_MAPERR, FPE_INTDIV, SI_KERNEL, ...
  uint64_t addr;  // si_addr
  uint64_t trapno;
  uint64_t err;
  uint64_t cr2;
};
bool deliver_fault_signal(GuestThread& t, const FaultSignal& f);
// Whether the program has a handler that can take signo now (the frame may
// still not fit): events about a fault go out before its signal's.
bool fault_signal_catchable(GuestThread& t, int signo);

// The program's signal mask for thread t, and setting it: the host thread's,
// except while the thread holds signals back for a full queue.
uint64_t program_sigmask(GuestThread& t);
void set_program_sigmask(GuestThread& t, uint64_t mask);
// Ends holding: the program's mask goes back on the host thread.
void release_held_signals(GuestThread& t);

// Ends a handler: restores the state, mask, sigaltstack and FPU saved in the
// frame below the guest's rsp (rt_sigreturn). False if the frame is not one.
bool restore_signal_frame(GuestThread& t);

}  // namespace dune
