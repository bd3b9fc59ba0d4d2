// traps.h - guest exceptions: faults the library resolves, Dune handlers, fatal signals.
#pragma once

#include <cstdint>

#include "mm/memory_manager.h"

namespace dune {

class GuestThread;

// An exception stub exited (t.exception() says which).
void handle_exception(GuestThread& t);
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
