#include "mm/page_table.h"

#include <gtest/gtest.h>

#include <cstdlib>
#include <cstring>
#include <map>
#include <memory>
#include <vector>

#include "mm/pte.h"

namespace dune {
namespace {

// Table pages from the heap, with made-up guest-physical addresses.
class FakeTableMemory : public PageTableMemory {
 public:
  Result<Page> allocate() override {
    if (limit_ && pages_.size() >= limit_) return Error(-ENOMEM);
    auto* p = static_cast<uint64_t*>(std::aligned_alloc(4096, 4096));
    std::memset(p, 0, 4096);
    uint64_t gpa = 0x100000000ull + pages_.size() * 4096;
    pages_.emplace(gpa, p);
    return Page{p, gpa};
  }
  uint64_t* table_at(uint64_t gpa) const override { return pages_.at(gpa); }
  void release(uint64_t gpa) override { released_.push_back(gpa); }
  ~FakeTableMemory() override {
    for (auto& [g, p] : pages_) std::free(p);
  }
  size_t count() const { return pages_.size(); }
  size_t limit_ = 0;
  std::vector<uint64_t> released_;

 private:
  std::map<uint64_t, uint64_t*> pages_;
};

TEST(GuestPageTable, MapsAndLooksUp) {
  FakeTableMemory mem;
  auto pt = GuestPageTable::create(&mem);
  ASSERT_TRUE(pt.ok());
  uint64_t flags = pte::user_flags(PROT_READ | PROT_WRITE, true);
  ASSERT_TRUE(pt->map(0x7f0000001000, 3 * 4096, 0x5000, flags).ok());
  EXPECT_EQ(pt->lookup(0x7f0000001000), 0x5000 | flags);
  EXPECT_EQ(pt->lookup(0x7f0000003000), 0x7000 | flags);
  EXPECT_EQ(pt->lookup(0x7f0000004000), 0u);
  EXPECT_EQ(pt->lookup(0x7f0000000000), 0u);
  // One table per level: PML4 (root), PDPT, PD, PT.
  EXPECT_EQ(mem.count(), 4u);
  EXPECT_EQ(pt->table_pages(), 4u);
}

TEST(GuestPageTable, CrossesTableBoundaries) {
  FakeTableMemory mem;
  auto pt = GuestPageTable::create(&mem);
  uint64_t start = (1ull << 21) - 4096;  // last page of the first 2 MiB
  ASSERT_TRUE(pt->map(start, 2 * 4096, start, pte::kPresent).ok());
  EXPECT_EQ(pt->lookup(start) & pte::kAddrMask, start);
  EXPECT_EQ(pt->lookup(start + 4096) & pte::kAddrMask, start + 4096);
  EXPECT_EQ(mem.count(), 5u);  // two leaf tables
}

TEST(GuestPageTable, UnmapClearsOnlyTheRange) {
  FakeTableMemory mem;
  auto pt = GuestPageTable::create(&mem);
  ASSERT_TRUE(pt->map(0x400000, 8 * 4096, 0x400000, pte::kPresent | pte::kUser).ok());
  pt->unmap(0x402000, 2 * 4096);
  EXPECT_NE(pt->lookup(0x401000), 0u);
  EXPECT_EQ(pt->lookup(0x402000), 0u);
  EXPECT_EQ(pt->lookup(0x403000), 0u);
  EXPECT_NE(pt->lookup(0x404000), 0u);
  // Unmapping where no table exists creates none.
  size_t before = mem.count();
  pt->unmap(0x7f0000000000, 1ull << 30);
  EXPECT_EQ(mem.count(), before);
}

TEST(GuestPageTable, ForEachLeafVisitsPresentPagesAndMayRewrite) {
  FakeTableMemory mem;
  auto pt = GuestPageTable::create(&mem);
  ASSERT_TRUE(pt->map(0x10000, 4 * 4096, 0x10000, pte::kPresent | pte::kWritable).ok());
  pt->unmap(0x11000, 4096);
  std::vector<uint64_t> seen;
  pt->for_each_leaf(0x0, 1 << 20, [&](uint64_t va, uint64_t& leaf) {
    seen.push_back(va);
    leaf &= ~pte::kWritable;
  });
  EXPECT_EQ(seen, (std::vector<uint64_t>{0x10000, 0x12000, 0x13000}));
  EXPECT_EQ(pt->lookup(0x12000) & pte::kWritable, 0u);
}

TEST(GuestPageTable, ReportsAllocationFailure) {
  FakeTableMemory mem;
  mem.limit_ = 2;
  auto pt = GuestPageTable::create(&mem);
  ASSERT_TRUE(pt.ok());
  auto s = pt->map(0x400000, 4096, 0x400000, pte::kPresent);
  EXPECT_FALSE(s.ok());
  EXPECT_EQ(s.error(), -ENOMEM);
}

TEST(Pte, FlagsForProtections) {
  EXPECT_EQ(pte::user_flags(PROT_NONE, true), 0u);
  uint64_t ro = pte::user_flags(PROT_READ, true);
  EXPECT_TRUE(ro & pte::kPresent);
  EXPECT_TRUE(ro & pte::kUser);
  EXPECT_FALSE(ro & pte::kWritable);
  EXPECT_TRUE(ro & pte::kNoExec);
  EXPECT_FALSE(pte::user_flags(PROT_READ | PROT_EXEC, true) & pte::kNoExec);
  EXPECT_FALSE(pte::user_flags(PROT_READ, false) & pte::kNoExec);
  EXPECT_EQ(pte::prot_of(pte::user_flags(PROT_READ | PROT_WRITE, true)), PROT_READ | PROT_WRITE);
  EXPECT_EQ(pte::prot_of(pte::supervisor_flags(true, true)), PROT_NONE);
  EXPECT_FALSE(pte::supervisor_flags(true, true) & pte::kUser);
}

TEST(GuestPageTable, WalkLeavesStopsAndResumes) {
  FakeTableMemory mem;
  auto pt = GuestPageTable::create(&mem);
  ASSERT_TRUE(pt.ok());
  uint64_t flags = pte::user_flags(PROT_READ, true);
  // Two runs with a hole between them, across a 2 MiB table boundary.
  ASSERT_TRUE(pt->map(0x1ff000, 3 * 4096, 0x10000, flags).ok());
  ASSERT_TRUE(pt->map(0x400000, 4096, 0x20000, flags).ok());
  std::vector<uint64_t> seen;
  uint64_t stop = pt->walk_leaves(0, 1ull << 47, [&](uint64_t va, uint64_t&) {
    if (seen.size() == 2) return false;
    seen.push_back(va);
    return true;
  });
  EXPECT_EQ(seen, (std::vector<uint64_t>{0x1ff000, 0x200000}));
  EXPECT_EQ(stop, 0x201000u);
  seen.clear();
  stop = pt->walk_leaves(stop, (1ull << 47) - stop, [&](uint64_t va, uint64_t&) {
    seen.push_back(va);
    return true;
  });
  EXPECT_EQ(seen, (std::vector<uint64_t>{0x201000, 0x400000}));
  EXPECT_EQ(stop, 1ull << 47);
}

TEST(GuestPageTable, MapKeepPreservesAccessedDirtyAndSoftwareBits) {
  FakeTableMemory mem;
  auto pt = GuestPageTable::create(&mem);
  ASSERT_TRUE(pt.ok());
  uint64_t rw = pte::user_flags(PROT_READ | PROT_WRITE, true);
  ASSERT_TRUE(pt->map(0x1000, 4096, 0x5000, rw).ok());
  auto slot = pt->leaf_slot(0x1000, false);
  ASSERT_TRUE(slot.ok() && slot.value());
  *slot.value() &= ~(pte::kDirty | pte::kAccessed);
  *slot.value() |= 1ull << 62;
  uint64_t watched = *slot.value();
  ASSERT_TRUE(pt->map_keep(0x1000, 4096, 0x5000, rw).ok());
  EXPECT_EQ(pt->lookup(0x1000), watched);  // same grant: kept
  ASSERT_TRUE(pt->map_keep(0x1000, 4096, 0x5000, pte::user_flags(PROT_READ, true)).ok());
  EXPECT_EQ(pt->lookup(0x1000), 0x5000 | pte::user_flags(PROT_READ, true));  // changed: rewritten
}

TEST(GuestPageTable, DestroyGivesEveryTablePageBack) {
  FakeTableMemory mem;
  auto pt = GuestPageTable::create(&mem);
  ASSERT_TRUE(pt.ok());
  uint64_t flags = pte::user_flags(PROT_READ, true);
  ASSERT_TRUE(pt->map(0x1000, 4096, 0x5000, flags).ok());
  ASSERT_TRUE(pt->map(0x7f0000000000, 4096, 0x6000, flags).ok());
  size_t pages = mem.count();
  pt->destroy();
  EXPECT_EQ(mem.released_.size(), pages);
  EXPECT_EQ(pt->table_pages(), 0u);
}

}  // namespace
}  // namespace dune
