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

// The frame a Dune handler runs on, below the interrupted stack's red zone:
// [xsave image][TrapFrame][return address = dune_trap_return].
struct TrapFrameLayout {
  uint64_t return_slot;  // the handler's rsp at entry
  uint64_t frame;        // struct TrapFrame
  uint64_t xsave;        // XSAVE image, 64-byte aligned
  uint64_t bottom;       // lowest byte used (== return_slot)
};
TrapFrameLayout trap_frame_layout(uint64_t interrupted_rsp, uint64_t xsave_size);

}  // namespace dune
