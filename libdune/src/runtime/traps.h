// traps.h - guest exceptions: faults the library resolves, Dune handlers, fatal signals.
#pragma once

#include <dune/dune.h>

#include <cstdint>

#include "mm/memory_manager.h"

namespace dune {

class GuestThread;

// An exception stub exited (t.exception() says which).
void handle_exception(GuestThread& t);
// Runs fn(a0, a1, tf) (pass_tf_third) or fn(tf) in the guest with a frame
// below stack_top (0: the interrupted stack), returning to dune_trap_return;
// false if the stack cannot hold the frame.
bool call_trap_handler(GuestThread& t, const dune_tf& tf, uint64_t fn, uint64_t a0, uint64_t a1,
                       bool pass_tf_third, uint64_t stack_top = 0, uint64_t kind = 0);
// A Dune handler returned to dune_trap_return.
void handle_trap_return(GuestThread& t);
// The signal Linux sends for an access the host refused: SIGBUS where the page
// is mapped with the right protection (past the end of a file, poisoned),
// else SIGSEGV.
int host_fault_signal(const FaultVerdict& v, bool is_write);
// The host refused an access the guest page tables allow: signo, to the
// program's handler, or death. Not to a handler from a KVM_EXIT_MMIO exit: KVM
// finishes emulating that instruction at the next entry, over any new state.
// v: what the host has at addr (for the event).
void handle_host_fault(GuestThread& t, uint64_t addr, bool is_write, const FaultVerdict& v, int signo,
                       bool may_deliver);

}  // namespace dune
