// tlb_gate.h - the guest flushing its own TLB through the monitor's gate
// (stubs.S, DUNE_VECTOR_TLB_FLUSH): no VM exit where guest ring 0 runs natively.
#pragma once

#include <cstdint>

namespace dune {

// Host side: whether guest code may use the gate now. True only while the
// flavour has the gate (FlavourTraits::tlb_flush_in_guest) and the VM has one
// vCPU: a translation cached by another vCPU, idle ones included, is out of
// this vCPU's reach and needs the host's flush. A vCPU made later starts with
// an empty TLB, so turning this off as a second one is made is soon enough.
void allow_guest_tlb_flush(bool allowed);
bool guest_tlb_flush_allowed();

// Guest side (ring 3 in Dune mode): flushes `page`, or every translation for
// ~0, and returns true; false when the gate may not be used (the caller asks
// the host). Reads only library memory the guest maps.
bool guest_tlb_flush(uint64_t page);

}  // namespace dune
