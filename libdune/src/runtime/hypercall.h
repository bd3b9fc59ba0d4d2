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
};

class GuestThread;
// The host side: runs hypercall nr for t, returns its result.
long handle_hypercall(GuestThread& t, long nr, uint64_t a1, uint64_t a2, uint64_t a3);

}  // namespace dune

// The guest side (hypercall.S): `out` on the hypercall port.
extern "C" long dune_hypercall(long nr, uint64_t a1, uint64_t a2, uint64_t a3);
