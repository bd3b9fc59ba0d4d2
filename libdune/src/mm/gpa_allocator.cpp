#include "mm/gpa_allocator.h"

namespace dune {

namespace {
constexpr uint64_t kLargePage = 2ull << 20;
}

GpaAllocator::GpaAllocator(uint64_t base, uint64_t limit, std::pmr::memory_resource* mr)
    : identity_(false), free_(mr) {
  free_.assign(base, limit, Free{});
}

std::optional<uint64_t> GpaAllocator::allocate(uint64_t hva, uint64_t size) {
  if (identity_) return hva;
  uint64_t phase = hva & (kLargePage - 1);
  std::optional<uint64_t> found;
  // First fit that respects the phase; the map is small (one entry per hole).
  free_.for_each([&](Range r, Free&) {
    if (found) return;
    uint64_t start = (r.start & ~(kLargePage - 1)) + phase;
    if (start < r.start) start += kLargePage;
    if (start + size <= r.end && start + size > start) found = start;
  });
  if (found) free_.erase(*found, *found + size);
  return found;
}

void GpaAllocator::release(uint64_t gpa, uint64_t size) {
  if (identity_ || size == 0) return;
  free_.assign(gpa, gpa + size, Free{});
}

}  // namespace dune
