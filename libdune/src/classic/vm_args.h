// vm_args.h - the arguments of the classic API's hypercalls, in program memory
// (the host reads and writes them there; library memory is not guest-visible).
#pragma once

#include <cstdint>

namespace dune::classic {

struct VmArgs {
  uint64_t root;  // the table's root page (host address)
  uint64_t va;
  uint64_t len;
  uint64_t pa;
  int64_t perm;   // PERM_*, or create for a lookup
  uint64_t out;   // where a lookup writes its ptent_t*
  uint64_t flush; // written by the host: what the guest must flush itself (GuestFlush)
};

// What a call that lowered translations leaves the guest to flush, where the
// guest flushes its own TLB (monitor/tlb_gate.h): 0 nothing, the one page's
// address, or ~0 for everything.
struct GuestFlush {
  uint64_t page = 0;
  void add(uint64_t va) { page = (page == 0 || page == va) ? va : ~0ull; }
};

// One batch of a page walk: the host fills entries from `next` on; the guest
// calls the callback for each and hands the batch back (commit), and the host
// makes the callbacks' changes take effect.
constexpr uint32_t kWalkBatch = 64;
struct WalkBatch {
  uint64_t root;
  uint64_t next;  // first address not walked yet
  uint64_t end;   // exclusive
  uint32_t count;
  uint32_t used;  // entries the callbacks saw (commit)
  uint64_t flush; // written by the host at commit: what the guest must flush (GuestFlush)
  struct Entry {
    uint64_t va;
    uint64_t ptep;
    uint64_t old;  // the leaf when handed out
  } e[kWalkBatch];
};

}  // namespace dune::classic
