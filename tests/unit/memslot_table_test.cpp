#include "kvm/memslot_table.h"

#include <gtest/gtest.h>

#include <map>

namespace dune {
namespace {

// Records what KVM would hold: slot id -> (gpa, size, hva).
class FakeSlots : public SlotBackend {
 public:
  struct Slot {
    uint64_t gpa, size, hva;
  };
  Status set_slot(uint32_t id, uint64_t gpa, uint64_t size, uint64_t hva) override {
    ++calls;
    if (fail_next) {
      fail_next = false;
      return Error(-EINVAL);
    }
    if (size == 0)
      slots.erase(id);
    else
      slots[id] = {gpa, size, hva};
    return {};
  }
  uint64_t bytes() const {
    uint64_t b = 0;
    for (auto& [id, s] : slots) b += s.size;
    return b;
  }
  std::map<uint32_t, Slot> slots;
  int calls = 0;
  bool fail_next = false;
};

std::pmr::memory_resource* mr() { return std::pmr::new_delete_resource(); }

TEST(MemslotTable, CoversGapsOnlyOnce) {
  FakeSlots kvm;
  MemslotTable t(&kvm, GpaAllocator(), 1 << 30, 100, mr());
  ASSERT_TRUE(t.cover({0x10000, 0x20000}).ok());
  ASSERT_TRUE(t.cover({0x18000, 0x30000}).ok());
  EXPECT_EQ(kvm.slots.size(), 2u);
  EXPECT_EQ(t.covered_bytes(), 0x20000u);
  EXPECT_EQ(kvm.bytes(), 0x20000u);
  EXPECT_EQ(t.uncovered_bytes({0x0, 0x40000}), 0x20000u);
  EXPECT_EQ(*t.gpa_of(0x28000), 0x28000u);  // identity
  EXPECT_FALSE(t.gpa_of(0x30000).has_value());
}

TEST(MemslotTable, UncoverSplitsAndKeepsGuestPhysicalAddresses) {
  FakeSlots kvm;
  MemslotTable t(&kvm, GpaAllocator(0x200000, 1ull << 39, mr()), 1 << 30, 100, mr());
  ASSERT_TRUE(t.cover({0x7f0000000000, 0x7f0000010000}).ok());
  uint64_t gpa_hi = *t.gpa_of(0x7f000000c000);
  ASSERT_TRUE(t.uncover({0x7f0000004000, 0x7f0000008000}).ok());
  EXPECT_EQ(kvm.slots.size(), 2u);
  EXPECT_EQ(t.covered_bytes(), 0xc000u);
  EXPECT_EQ(*t.gpa_of(0x7f000000c000), gpa_hi);
  EXPECT_FALSE(t.gpa_of(0x7f0000005000).has_value());
  EXPECT_LT(gpa_hi, 1ull << 39);
}

TEST(MemslotTable, BudgetIsHard) {
  FakeSlots kvm;
  MemslotTable t(&kvm, GpaAllocator(), 0x10000, 100, mr());
  ASSERT_TRUE(t.cover({0x0, 0x8000}).ok());
  auto s = t.cover({0x10000, 0x20000});
  EXPECT_EQ(s.error(), -ENOMEM);
  EXPECT_EQ(kvm.slots.size(), 1u);  // nothing changed
  EXPECT_TRUE(t.cover({0x10000, 0x18000}).ok());
  EXPECT_EQ(t.set_budget(0x8000).error(), -EBUSY);
  EXPECT_TRUE(t.set_budget(0x20000).ok());
}

TEST(MemslotTable, RunsOutOfSlotIdsCleanly) {
  FakeSlots kvm;
  MemslotTable t(&kvm, GpaAllocator(), 1 << 30, 2, mr());
  ASSERT_TRUE(t.cover({0x1000, 0x2000}).ok());
  ASSERT_TRUE(t.cover({0x3000, 0x4000}).ok());
  EXPECT_EQ(t.cover({0x5000, 0x6000}).error(), -ENOSPC);
  // Covering two gaps at once where only one id is free undoes the first.
  ASSERT_TRUE(t.uncover({0x3000, 0x4000}).ok());
  EXPECT_EQ(t.cover({0x0, 0x8000}).error(), -ENOSPC);
  EXPECT_EQ(t.slot_count(), 1u);
  EXPECT_EQ(kvm.slots.size(), 1u);
}

TEST(MemslotTable, BackendFailureLeavesNothingBehind) {
  FakeSlots kvm;
  MemslotTable t(&kvm, GpaAllocator(), 1 << 30, 10, mr());
  kvm.fail_next = true;
  EXPECT_FALSE(t.cover({0x1000, 0x2000}).ok());
  EXPECT_EQ(t.slot_count(), 0u);
  EXPECT_EQ(t.covered_bytes(), 0u);
}

TEST(MemslotTable, ForEachInReportsPiecesWithTheirGpa) {
  FakeSlots kvm;
  MemslotTable t(&kvm, GpaAllocator(0x200000, 1ull << 36, mr()), 1 << 30, 10, mr());
  ASSERT_TRUE(t.cover({0x10000, 0x20000}).ok());
  ASSERT_TRUE(t.cover({0x30000, 0x40000}).ok());
  int pieces = 0;
  t.for_each_in({0x18000, 0x38000}, [&](Range piece, uint64_t gpa) {
    ++pieces;
    EXPECT_EQ(gpa, *t.gpa_of(piece.start));
  });
  EXPECT_EQ(pieces, 2);
}

TEST(GpaAllocator, PacksWithLargePagePhase) {
  GpaAllocator a(0x200000, 1ull << 32, mr());
  auto g1 = a.allocate(0x7fff12345000, 0x3000);
  ASSERT_TRUE(g1.has_value());
  EXPECT_EQ(*g1 & 0x1fffff, 0x7fff12345000ull & 0x1fffff);
  auto g2 = a.allocate(0x7fff00000000, 0x1000);
  ASSERT_TRUE(g2.has_value());
  EXPECT_TRUE(*g2 + 0x1000 <= *g1 || *g2 >= *g1 + 0x3000);
  a.release(*g1, 0x3000);
  auto g3 = a.allocate(0x7fff12345000, 0x3000);
  EXPECT_EQ(g3, g1);
  EXPECT_FALSE(a.allocate(0x1000, 1ull << 33).has_value());
}

TEST(GpaAllocator, IdentityIsTheAddress) {
  GpaAllocator a;
  EXPECT_TRUE(a.identity());
  EXPECT_EQ(*a.allocate(0x7f1234560000, 0x1000), 0x7f1234560000u);
}

}  // namespace
}  // namespace dune
