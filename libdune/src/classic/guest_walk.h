// guest_walk.h - dune_vm_page_walk and dune_vm_lookup over pgroot done by the
// guest itself. The process's tables are library memory the program may read
// and write (MemoryManager::expose_tables), found from the guest-physical
// addresses in their entries through mm/table_directory.h, so neither needs a
// hypercall. The host hears only of what it must record: a permission a
// callback changed (kGrantBits) on a leaf that did not hold the program's
// permission already (pte::kProgramPerm: then the leaf is the record), in
// WalkBatch commits. Any other lowering (PTE_D or PTE_A cleared, or a
// recorded permission taken away) is flushed by the guest through the TLB
// gate where it may (monitor/tlb_gate.h), else committed too.
#pragma once

#include <dune/dune.h>

#include <cstdint>

#include "classic/vm_args.h"

namespace dune::classic {

// Host side: the root the guest may walk itself (nullptr: none, the flavour
// says no).
void allow_guest_page_walk(uint64_t* root);
uint64_t* guest_walk_root();

// Hands a full or final batch of changed entries to the host (used == count);
// returns 0 or a negative errno, and leaves in batch.flush what the guest must
// flush (GuestFlush).
using CommitFn = long (*)(WalkBatch& batch);
// The memory of the table page at a guest-physical address, or nullptr.
using TableAtFn = uint64_t* (*)(uint64_t gpa);

struct GuestWalkResult {
  int ret = 0;          // the callback's non-zero return, or a commit's error
  uint64_t flush = 0;   // GuestFlush of the lowerings the host was not told of
};

// Calls cb(arg, ptep, va) for each non-zero leaf of root with start <= va <
// end, in ascending order, stopping at a non-zero return. `batch` is scratch
// the host can read (the caller's stack). guest_flushes: the caller may flush
// its TLB itself (guest_tlb_flush_allowed); else a lowering goes to the host
// too, which invalidates just those pages (one flush of everything costs the
// host a pass over the whole address space).
GuestWalkResult walk_in_guest(uint64_t* root, TableAtFn table_at, uint64_t start, uint64_t end, page_walk_cb cb,
                              const void* arg, WalkBatch& batch, CommitFn commit, bool guest_flushes);

// What a permission call sets on each leaf of a range in the guest:
// dune_vm_mprotect, and dune_vm_unmap and dune_vm_map_phys, which on pgroot
// only change the permission of the page a leaf maps already.
struct LeafChange {
  static constexpr uint64_t kAnyAddress = ~0ull;
  uint64_t flags = 0;            // the new leaf flags (present), or 0: no access
  uint64_t pa = kAnyAddress;     // else the address the range's first leaf must map (map_phys)
  // pgroot: every leaf must be the program's record already
  // (pte::kProgramPerm: the host recorded the page's first call), and stays
  // one, so the host need not hear of the change; no access keeps the page's
  // address in a leaf that is not present (pte.h). Another root: its present
  // leaves are all there is, as the host's call would write them.
  bool records = true;
  bool may_lower = false;        // the caller may flush its own TLB
  bool unmap = false;            // another root: every leaf goes, present or not
};

// Makes `change` over [start, end) of root in the guest. A lowering is left
// in `flush` (GuestFlush), and allowed only with may_lower. Returns false,
// having changed nothing, where a page does not qualify: then the host does
// the call.
bool protect_in_guest(uint64_t* root, TableAtFn table_at, uint64_t start, uint64_t end, const LeafChange& change,
                      GuestFlush& flush);

// Roots other than pgroot the guest may change itself (dune_vm_clone,
// dune_vm_new_root): the host registers each it makes and forgets each it
// frees. A full list leaves the rest to the host.
void register_guest_root(uint64_t* root);
void forget_guest_root(uint64_t* root);
bool guest_root_known(const uint64_t* root);

// dune_vm_lookup without create, in the guest: the leaf slot of va, or
// nullptr where no table covers it (-ENOENT). va is a user address.
uint64_t* lookup_in_guest(uint64_t* root, TableAtFn table_at, uint64_t va);

}  // namespace dune::classic
