// memslot_table.h - the KVM memory slots that back guest-physical memory, and their budget.
//
// KVM allocates per-slot metadata (with shadow paging, ~8 bytes per 4 KiB page)
// eagerly, in kernel memory that no rlimit bounds. So slots cover only memory
// that is mapped and accessible, and the bytes they cover have a hard budget.
#pragma once

#include <cstdint>
#include <map>
#include <memory_resource>
#include <optional>
#include <vector>

#include "base/result.h"
#include "mm/gpa_allocator.h"
#include "mm/interval_map.h"

namespace dune {

// What actually creates and deletes slots (the VM; a fake in unit tests).
class SlotBackend {
 public:
  virtual ~SlotBackend() = default;
  // size == 0 deletes the slot.
  virtual Status set_slot(uint32_t id, uint64_t gpa, uint64_t size, uint64_t hva) = 0;
};

class MemslotTable {
 public:
  struct Slot {
    uint64_t end;  // host-virtual end (exclusive); the key is the start
    uint64_t gpa;  // guest-physical address of the start
    uint32_t id;
  };

  MemslotTable(SlotBackend* backend, GpaAllocator gpa, uint64_t budget_bytes, uint32_t max_slots,
               std::pmr::memory_resource* mr);

  // Backs every uncovered page of r with a slot. -ENOMEM past the byte budget
  // (nothing changes then), -ENOSPC when KVM has no free slot.
  Status cover(Range r);
  // Removes r from the slots that overlap it; the parts outside r stay backed at
  // the same guest-physical addresses.
  Status uncover(Range r);

  // Bytes cover(r) would add.
  uint64_t uncovered_bytes(Range r) const;
  bool would_fit(uint64_t more_bytes) const { return covered_ + more_bytes <= budget_; }
  std::optional<uint64_t> gpa_of(uint64_t hva) const;
  // Calls fn(Range piece, uint64_t gpa_of_piece_start) for each slot part within r.
  template <typename Fn>
  void for_each_in(Range r, Fn&& fn) const {
    auto it = slots_.upper_bound(r.start);
    if (it != slots_.begin()) --it;
    for (; it != slots_.end() && it->first < r.end; ++it) {
      if (it->second.end <= r.start) continue;
      uint64_t s = it->first > r.start ? it->first : r.start;
      uint64_t e = it->second.end < r.end ? it->second.end : r.end;
      fn(Range{s, e}, it->second.gpa + (s - it->first));
    }
  }

  uint64_t covered_bytes() const { return covered_; }
  size_t slot_count() const { return slots_.size(); }
  uint64_t budget() const { return budget_; }
  // Fails with -EBUSY if more than `bytes` is covered already.
  Status set_budget(uint64_t bytes);
  bool identity() const { return gpa_.identity(); }

  // Deletes every slot (teardown).
  void clear();
  // Registers every slot again, on a new backend (a forked child's new VM).
  Status reregister(SlotBackend* backend);

 private:
  // Grows the identity-mapped slot ending at start to end; false if there is none.
  bool extend_below(uint64_t start, uint64_t end);
  Status add_slot(uint64_t start, uint64_t end, uint64_t gpa);
  Status remove_slot(std::pmr::map<uint64_t, Slot>::iterator it);

  SlotBackend* backend_;
  GpaAllocator gpa_;
  uint64_t budget_;
  uint64_t covered_ = 0;
  std::pmr::map<uint64_t, Slot> slots_;
  std::pmr::vector<uint32_t> free_ids_;
};

}  // namespace dune
