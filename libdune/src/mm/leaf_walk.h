// leaf_walk.h - visiting the leaf entries of a 4-level page table, given a way
// from a table's guest-physical address to memory. One walk for both sides:
// the host over its GuestPageTable (page_table.h) and the guest over the
// identity-mapped pgroot (classic/guest_walk.h).
#pragma once

#include <cstdint>

namespace dune {

// The leaf table covering va (2 MiB of address space), or nullptr where an
// upper level is not present; then *next is the first address past the hole
// (a whole missing PD or PDPT is skipped at once).
template <typename TableAt>
uint64_t* leaf_table_of(uint64_t* root, TableAt&& table_at, uint64_t va, uint64_t* next) {
  uint64_t* table = root;
  for (int level = 3; level > 0; --level) {
    int shift = 12 + 9 * level;
    uint64_t v = __atomic_load_n(&table[(va >> shift) & 511], __ATOMIC_ACQUIRE);
    // Not present, or a large page (the library makes none): nothing below.
    if (!(v & 1) || (v & 0x80)) {
      *next = ((va >> shift) + 1) << shift;
      return nullptr;
    }
    table = table_at(v & 0x000ffffffffff000ull);
    if (!table) {
      *next = ((va >> shift) + 1) << shift;
      return nullptr;
    }
  }
  return table;
}

// Calls fn(va, uint64_t& leaf) for each non-zero leaf in [va, va + len), in
// ascending order; fn returns false to stop (before the leaf it was given).
// Returns where the walk stopped, or the end. fn may rewrite the leaf.
template <typename TableAt, typename Fn>
uint64_t walk_leaf_entries(uint64_t* root, TableAt&& table_at, uint64_t va, uint64_t len, Fn&& fn) {
  uint64_t end = va + len;
  while (va < end) {
    uint64_t next = 0;
    uint64_t* table = leaf_table_of(root, table_at, va, &next);
    if (!table) {
      if (next <= va) return end;
      va = next;
      continue;
    }
    uint64_t table_end = (va | ((1ull << 21) - 1)) + 1;
    uint64_t stop = end < table_end ? end : table_end;
    // A pointer that moves with va: the loop is most of a long walk's time.
    uint64_t* slot = &table[(va >> 12) & 511];
    uint64_t* last = slot + ((stop - va + 4095) >> 12);
    for (; slot < last; ++slot, va += 4096)
      if (__atomic_load_n(slot, __ATOMIC_ACQUIRE) && !fn(va, *slot)) return va;
  }
  return end;
}

}  // namespace dune
