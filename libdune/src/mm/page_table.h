// page_table.h - the guest's 4-level page tables, built and owned by the host.
#pragma once

#include <cstdint>

#include "base/result.h"
#include "mm/leaf_walk.h"

namespace dune {

// Where table pages come from: zeroed 4 KiB pages with a guest-physical address.
class PageTableMemory {
 public:
  struct Page {
    uint64_t* hva;
    uint64_t gpa;
  };
  virtual ~PageTableMemory() = default;
  virtual Result<Page> allocate() = 0;
  // Takes back a table page no table refers to any more.
  virtual void release(uint64_t gpa) = 0;
  // Host pointer of the table page at gpa (one this memory handed out).
  virtual uint64_t* table_at(uint64_t gpa) const = 0;
};

class GuestPageTable {
 public:
  static Result<GuestPageTable> create(PageTableMemory* mem);

  uint64_t root_gpa() const { return root_.gpa; }
  uint64_t* root_hva() const { return root_.hva; }

  // Maps [va, va + len) to [gpa, gpa + len) with leaf `flags` (4 KiB pages).
  // flags == 0 clears the leaves instead. va, len and gpa are page aligned.
  Status map(uint64_t va, uint64_t len, uint64_t gpa, uint64_t flags);
  // As map, but a leaf that already maps gpa with the same grant (present,
  // writable, user, no-execute) and the same owner (pte::kProgramPerm) keeps
  // its other bits: the accessed and dirty bits the MMU set and the program's
  // software bits. With keep_records, a present leaf of gpa whose permission
  // is the program's (pte::kProgramPerm) stays whatever flags say: the
  // program may have changed it in the guest since the library last wrote it.
  Status map_keep(uint64_t va, uint64_t len, uint64_t gpa, uint64_t flags, bool keep_records = false);
  void unmap(uint64_t va, uint64_t len);
  // The leaf slot for va: created with its tables when create, else nullptr
  // where no table covers va.
  Result<uint64_t*> leaf_slot(uint64_t va, bool create);
  // Gives every table page (the root included) back to the memory; the
  // object is unusable afterwards.
  void destroy();
  // The leaf entry for va, or 0.
  uint64_t lookup(uint64_t va) const;
  // Calls fn(va, uint64_t& leaf) for each present leaf in [va, va + len); fn
  // may rewrite the leaf.
  template <typename Fn>
  void for_each_leaf(uint64_t va, uint64_t len, Fn&& fn);

  // As for_each_leaf over the non-zero leaves, but fn returns false to stop
  // (before the leaf it was given); returns where the walk stopped, or the end.
  template <typename Fn>
  uint64_t walk_leaves(uint64_t va, uint64_t len, Fn&& fn);

  size_t table_pages() const { return table_pages_; }

 private:
  // The leaf table covering va (2 MiB of address space), created on demand;
  // without create, nullptr where it is missing.
  Result<uint64_t*> leaf_table(uint64_t va, bool create);
  // From a table entry's guest-physical address to the table (leaf_walk.h).
  auto tables() const {
    return [mem = mem_](uint64_t gpa) { return mem->table_at(gpa); };
  }
  Status map_impl(uint64_t va, uint64_t len, uint64_t gpa, uint64_t flags, bool keep, bool keep_records);
  void destroy_level(uint64_t* table, int level);

  PageTableMemory* mem_ = nullptr;
  PageTableMemory::Page root_{};
  size_t table_pages_ = 0;
};

template <typename Fn>
void GuestPageTable::for_each_leaf(uint64_t va, uint64_t len, Fn&& fn) {
  walk_leaves(va, len, [&](uint64_t at, uint64_t& e) {
    if (e & 1) fn(at, e);  // present
    return true;
  });
}

template <typename Fn>
uint64_t GuestPageTable::walk_leaves(uint64_t va, uint64_t len, Fn&& fn) {
  return walk_leaf_entries(root_.hva, tables(), va, len, fn);
}

}  // namespace dune
