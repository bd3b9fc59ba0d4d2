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
// The host refused an access the guest page tables allow.
void handle_host_fault(GuestThread& t, uint64_t addr, bool is_write, const FaultVerdict& v);

}  // namespace dune
