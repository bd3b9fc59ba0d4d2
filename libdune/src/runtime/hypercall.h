// hypercall.h - calls from guest code into the library's host side.
//
// The library's state lives in memory the guest cannot see (its allocator's
// chunks are never mapped for the guest), so an API function called by a
// thread in Dune mode asks the host side of its own thread to do the work.
#pragma once

#include <cstdint>

namespace dune {

enum class Hypercall : long {
  kGetStats = 1,   // a1: struct dune_stats*
  kSetBudget = 2,  // a1: bytes
  kGetBudget = 3,
  // The classic API (classic/): a1 is a classic::VmArgs* unless said.
  kVmMprotect = 10,
  kVmMapPhys = 11,
  kVmMapPages = 12,
  kVmUnmap = 13,
  kVmLookup = 14,
  kVmClone = 15,      // returns the new root
  kVmNewRoot = 16,    // returns the new root
  kVmFree = 17,
  kVmWalk = 18,       // a1: classic::WalkBatch*
  kVmWalkCommit = 19, // a1: classic::WalkBatch*
  kFlushTlb = 20,     // a1: an address, or ~0 for all
  kVaToPa = 21,       // a1: an address
  kSetUserRoot = 22,  // a1: a root, 0 for pgroot
  kJumpToUser = 23,   // a1: struct dune_tf*
  kRetFromUser = 24,  // a1: the value
  kPassthrough = 25,  // a1: struct dune_tf*
};

class GuestThread;
// The host side: runs hypercall nr for t, returns its result.
long handle_hypercall(GuestThread& t, long nr, uint64_t a1, uint64_t a2, uint64_t a3);

}  // namespace dune

// The guest side (hypercall.S): `out` on the hypercall port.
extern "C" long dune_hypercall(long nr, uint64_t a1, uint64_t a2, uint64_t a3);
// Its `out` and the instruction after it (GuestThread::on_io moves RIP from one
// to the other where KVM stopped at the `out`).
extern "C" const char dune_hypercall_out[];
extern "C" const char dune_hypercall_done[];
