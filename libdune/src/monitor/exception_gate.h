// exception_gate.h - the exceptions the program registered a Dune handler for,
// dispatched by guest ring 0 without a VM exit (FlavourTraits::
// exceptions_in_guest), and the handler's return: stubs.S (dune_gate_*) saves
// the registers and calls dune_gate_dispatch, which builds the same frame on
// the same stack as the host's path (runtime/traps.cpp) or declines. What it
// declines goes to the vector's stub, the host's path, unchanged.
#pragma once

#include <cstdint>

#include "monitor/descriptors.h"
#include "monitor/gate_abi.h"

namespace dune {

// The registers as dune_gate_common pushes them (rax first, so last here).
struct GateRegs {
  uint64_t r15, r14, r13, r12, r11, r10, r9, r8, rbp, rdi, rsi, rdx, rcx, rbx, rax;
};
// The ring-0 stack at dune_gate_saved: the registers, the vector, the error
// code (0 where the CPU pushes none) and the CPU's frame.
struct GateFrame {
  GateRegs regs;
  uint64_t vector;
  uint64_t err;
  desc::IretFrame iret;
};
static_assert(sizeof(GateFrame) == DUNE_GATE_FRAME_BYTES);
// The ring-3 state dune_gate_commit resumes.
struct GateOut {
  GateRegs regs;
  desc::IretFrame iret;
};

// A leaf table the gate found by walking, kept per vCPU: a program's faults hit
// the same 2 MiB again and again, and so do its handlers' frames. Good while
// no table has been released since (table_directory::generation) and the gate
// not re-armed (Monitor::arm_exception_gate clears it).
struct WalkMemo {
  uint64_t region;  // va >> 21, plus 1 (0: empty)
  uint64_t generation;
  uint64_t* table;
};
enum WalkMemoSlot { kMemoFault, kMemoFrame, kMemoSlots };

// Where the gate keeps its state in the CpuBlock at `block` (monitor.h).
inline GateFrame* gate_frame_at(uint64_t block) {
  return reinterpret_cast<GateFrame*>(block + DUNE_CPU_RSP0_TOP - DUNE_GATE_FRAME_BYTES);
}
inline GateOut* gate_out_at(uint64_t block) { return reinterpret_cast<GateOut*>(block + DUNE_CPU_GATE_OUT); }
inline uint64_t* gate_root_at(uint64_t block) { return reinterpret_cast<uint64_t*>(block + DUNE_CPU_GATE_ROOT); }
inline WalkMemo* gate_walk_memo_at(uint64_t block) { return reinterpret_cast<WalkMemo*>(block + DUNE_CPU_GATE_WALK); }

// What the gate reads, set by the host once pgroot exists (dune_init).
struct GateConfig {
  uint64_t* root = nullptr;    // pgroot's memory: the leaf of a fault, the stack's pages
  uint64_t trap_return = 0;    // the handlers' return address (Monitor::trap_return)
  uint64_t xsave_bytes = 0;    // room for the FPU image (Runtime::xsave_size), as the host's frames
  uint64_t xcr0 = 0;           // the guest's XCR0; 0: no XSAVE, the image is FXSAVE's
};
void configure_exception_gate(const GateConfig& c);
// Exceptions of `vector` (0..31) the gate has dispatched, all threads (since
// the fork, in a child).
uint64_t gate_dispatched(int vector);
void reset_gate_dispatched();

}  // namespace dune

// Called by dune_gate_common in guest ring 0, interrupts off, on the table the
// gate was set up for: 0 to decline an exception (to the host), 1 to decline a
// trap return (back to its `out`), else the GateOut to resume.
extern "C" uint64_t dune_gate_dispatch(dune::GateFrame* f, uint64_t cr2);
// Per vector, what the gate dispatched (stubs.S counts at the commit; read
// through dune::gate_dispatched).
extern "C" uint64_t dune_gate_dispatched[32];
