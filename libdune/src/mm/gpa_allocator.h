// gpa_allocator.h - where host memory appears in guest-physical space.
//
// Identity (GPA == HVA) when the guest's physical address width covers every
// user address (PVM and AMD hosts: 48 bits). CPUs with fewer physical address
// bits than user virtual ones (many Intel parts: 39 to 46) cannot place a
// mapping at 0x7fff'xxxx'xxxx in guest-physical space, so slots are packed
// into the space that exists instead; guest virtual still equals host virtual.
#pragma once

#include <cstdint>
#include <memory_resource>
#include <optional>

#include "mm/interval_map.h"

namespace dune {

class GpaAllocator {
 public:
  // Identity layout.
  GpaAllocator() = default;
  // Packed layout over [base, limit).
  GpaAllocator(uint64_t base, uint64_t limit, std::pmr::memory_resource* mr);

  bool identity() const { return identity_; }
  // A GPA for `size` bytes of host memory at `hva`: hva itself when identity,
  // else a free range congruent to hva modulo 2 MiB (so that large pages can
  // line up). nullopt when the space is exhausted.
  std::optional<uint64_t> allocate(uint64_t hva, uint64_t size);
  void release(uint64_t gpa, uint64_t size);

 private:
  struct Free {
    bool operator==(const Free&) const = default;
  };
  bool identity_ = true;
  IntervalMap<Free> free_;
};

}  // namespace dune
