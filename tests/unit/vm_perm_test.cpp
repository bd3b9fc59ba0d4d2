#include "classic/vm_perm.h"

#include "classic/vm_args.h"

#include <gtest/gtest.h>

namespace dune::classic {
namespace {

TEST(VmPerm, TranslatesPermissionsToLeafBits) {
  EXPECT_EQ(leaf_flags(PERM_NONE, true), 0u);
  EXPECT_EQ(leaf_flags(PERM_R, true), PTE_P | PTE_A | PTE_D | PTE_NX);
  EXPECT_EQ(leaf_flags(PERM_R | PERM_W, true), PTE_P | PTE_W | PTE_A | PTE_D | PTE_NX);
  EXPECT_EQ(leaf_flags(PERM_UCODE, true), PTE_P | PTE_U | PTE_A | PTE_D);
  EXPECT_EQ(leaf_flags(PERM_UTEXT, true), PTE_P | PTE_U | PTE_W | PTE_A | PTE_D | PTE_NX);
  // Without no-execute support the bit is reserved: never set.
  EXPECT_EQ(leaf_flags(PERM_R, false), PTE_P | PTE_A | PTE_D);
  EXPECT_EQ(leaf_flags(PERM_R | PERM_UC | PERM_COW, true) & (PTE_PCD | PTE_COW), PTE_PCD | PTE_COW);
  EXPECT_EQ(leaf_flags(PERM_R | PERM_USR3, true) & (PTE_USR1 | PTE_USR2), PTE_USR1 | PTE_USR2);
  // Write or user access without read is no access (the caller rejects it first).
  EXPECT_EQ(leaf_flags(PERM_W | PERM_U, true), 0u);
}

TEST(VmPerm, ChecksPermissions) {
  EXPECT_EQ(check_perm(PERM_R), 0);
  EXPECT_EQ(check_perm(PERM_UCODE | PERM_UC | PERM_COW | PERM_USR3), 0);
  EXPECT_EQ(check_perm(PERM_NONE), 0);
  EXPECT_EQ(check_perm(PERM_W), -EINVAL);
  EXPECT_EQ(check_perm(PERM_U | PERM_X), -EINVAL);
  EXPECT_EQ(check_perm(PERM_R | PERM_BIG), -ENOTSUP);
  EXPECT_EQ(check_perm(PERM_R | PERM_BIG_1GB), -ENOTSUP);
  EXPECT_EQ(check_perm(PERM_R | 0x40000), -EINVAL);
}

TEST(VmPerm, SaysWhatLowersAPermission) {
  uint64_t rw = 0x5000 | PTE_P | PTE_W | PTE_U | PTE_A | PTE_D | PTE_NX;
  EXPECT_TRUE(lowers(rw, rw & ~PTE_W));
  EXPECT_TRUE(lowers(rw, 0));
  EXPECT_TRUE(lowers(rw, rw & ~PTE_D));  // the MMU must set it again
  EXPECT_TRUE(lowers(rw, rw & ~PTE_A));
  EXPECT_TRUE(lowers(rw, (rw & ~PTE_ADDR(rw)) | 0x6000));  // moved
  EXPECT_TRUE(lowers(rw & ~PTE_NX, rw));                  // no longer executable
  EXPECT_FALSE(lowers(rw & ~PTE_W, rw));                  // raising needs nothing
  EXPECT_FALSE(lowers(0, rw));
  EXPECT_FALSE(lowers(rw, rw | PTE_USR1));
}

TEST(VmPerm, PageRanges) {
  auto r = page_range(0x1000, 1);
  EXPECT_EQ(r.error, 0);
  EXPECT_EQ(r.start, 0x1000u);
  EXPECT_EQ(r.end, 0x2000u);
  EXPECT_EQ(page_range(0x1001, 4096).error, -EINVAL);
  EXPECT_EQ(page_range(0x1000, 0).error, -EINVAL);
  EXPECT_EQ(page_range(kVaTop, 4096).error, -EINVAL);
  EXPECT_EQ(page_range(kVaTop - 4096, 8192).error, -EINVAL);
  EXPECT_EQ(page_range(kVaTop - 4096, 4096).end, kVaTop);
  EXPECT_EQ(page_range(0x1000, ~0ull).error, -EINVAL);  // wraps
}

TEST(VmPerm, WalkRangesAreInclusive) {
  auto r = walk_range(0x5123, 0x8000);
  EXPECT_EQ(r.error, 0);
  EXPECT_EQ(r.start, 0x5000u);
  EXPECT_EQ(r.end, 0x9000u);  // the page holding end_va is walked
  r = walk_range(0, ~0ull);   // VA_START .. VA_END
  EXPECT_EQ(r.start, 0u);
  EXPECT_EQ(r.end, kVaTop);
  EXPECT_EQ(walk_range(0x9000, 0x8000).error, -EINVAL);
  EXPECT_EQ(walk_range(kVaTop, ~0ull).error, -EINVAL);
  r = walk_range(0x1000, 0x1000);
  EXPECT_EQ(r.end - r.start, 0x1000u);
}

// What a call leaves the guest to flush: nothing, its one page, or everything.
TEST(GuestFlush, OnePageOrEverything) {
  GuestFlush f;
  EXPECT_EQ(f.page, 0u);
  f.add(0x7f0000001000);
  EXPECT_EQ(f.page, 0x7f0000001000u);
  f.add(0x7f0000001000);  // the same page again (a walk's two entries of it)
  EXPECT_EQ(f.page, 0x7f0000001000u);
  f.add(0x7f0000002000);
  EXPECT_EQ(f.page, ~0ull);
  f.add(0x7f0000001000);
  EXPECT_EQ(f.page, ~0ull);
}

}  // namespace
}  // namespace dune::classic
