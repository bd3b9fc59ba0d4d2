#include "classic/guest_walk.h"

#include <gtest/gtest.h>

#include <cstdlib>
#include <cstring>
#include <vector>

#include "mm/page_table.h"
#include "classic/vm_perm.h"
#include "mm/pte.h"

namespace dune::classic {
namespace {

// Table pages whose guest-physical address is their own address, as the
// library's identity layout has them: the guest walk reads them directly.
class IdentityTableMemory : public PageTableMemory {
 public:
  Result<Page> allocate() override {
    auto* p = static_cast<uint64_t*>(std::aligned_alloc(4096, 4096));
    std::memset(p, 0, 4096);
    pages_.push_back(p);
    return Page{p, reinterpret_cast<uint64_t>(p)};
  }
  uint64_t* table_at(uint64_t gpa) const override { return reinterpret_cast<uint64_t*>(gpa); }
  void release(uint64_t) override {}
  ~IdentityTableMemory() override {
    for (uint64_t* p : pages_) std::free(p);
  }

 private:
  std::vector<uint64_t*> pages_;
};

uint64_t* identity(uint64_t gpa) { return reinterpret_cast<uint64_t*>(gpa); }

constexpr uint64_t kBase = 0x7f0000000000;
const uint64_t kFlags = pte::user_flags(PROT_READ | PROT_WRITE, true);

struct Visit {
  std::vector<uint64_t> va;
  long stop_after = -1;
  uint64_t clear = 0;  // bits the callback clears
};

int visit(const void* arg, ptent_t* pte, void* va) {
  auto* v = static_cast<Visit*>(const_cast<void*>(arg));
  v->va.push_back(reinterpret_cast<uint64_t>(va));
  *pte &= ~v->clear;
  return static_cast<long>(v->va.size()) == v->stop_after ? 42 : 0;
}

// What the host was handed.
std::vector<WalkBatch::Entry> g_committed;
std::vector<uint32_t> g_batches;
long g_commit_result = 0;
long record_commit(WalkBatch& b) {
  g_batches.push_back(b.used);
  for (uint32_t i = 0; i < b.used; ++i) g_committed.push_back(b.e[i]);
  return g_commit_result;
}

class GuestWalk : public ::testing::Test {
 protected:
  void SetUp() override {
    g_committed.clear();
    g_batches.clear();
    g_commit_result = 0;
    auto t = GuestPageTable::create(&mem_);
    ASSERT_TRUE(t.ok());
    pt_ = std::make_unique<GuestPageTable>(std::move(t.value()));
  }
  void TearDown() override { pt_->destroy(); }
  uint64_t* root() { return pt_->root_hva(); }

  IdentityTableMemory mem_;
  std::unique_ptr<GuestPageTable> pt_;
  WalkBatch batch_{};
};

TEST_F(GuestWalk, VisitsTheNonZeroLeavesInOrderAcrossTables) {
  // Pages 0-2, a hole, the last page of the first 2 MiB and the first of the
  // next, and one a whole PD away.
  ASSERT_TRUE(pt_->map(kBase, 3 * 4096, 0x10000, kFlags).ok());
  ASSERT_TRUE(pt_->map(kBase + (2u << 20) - 4096, 2 * 4096, 0x20000, kFlags).ok());
  ASSERT_TRUE(pt_->map(kBase + (1ull << 30), 4096, 0x30000, kFlags).ok());
  Visit v;
  auto r = walk_in_guest(root(), identity, kBase, kBase + (2ull << 30), visit, &v, batch_, record_commit, true);
  EXPECT_EQ(r.ret, 0);
  EXPECT_EQ(r.flush, 0u);
  std::vector<uint64_t> want{kBase, kBase + 4096, kBase + 8192, kBase + (2u << 20) - 4096, kBase + (2u << 20),
                             kBase + (1ull << 30)};
  EXPECT_EQ(v.va, want);
  EXPECT_TRUE(g_batches.empty());
}

TEST_F(GuestWalk, TheRangeIsHalfOpenAndANonZeroReturnStops) {
  ASSERT_TRUE(pt_->map(kBase, 8 * 4096, 0x10000, kFlags).ok());
  Visit v;
  auto r = walk_in_guest(root(), identity, kBase + 4096, kBase + 4 * 4096, visit, &v, batch_, record_commit, true);
  EXPECT_EQ(v.va, (std::vector<uint64_t>{kBase + 4096, kBase + 8192, kBase + 12288}));
  EXPECT_EQ(r.ret, 0);
  Visit s;
  s.stop_after = 2;
  r = walk_in_guest(root(), identity, kBase, kBase + 8 * 4096, visit, &s, batch_, record_commit, true);
  EXPECT_EQ(r.ret, 42);
  EXPECT_EQ(s.va.size(), 2u);
}

TEST_F(GuestWalk, ClearedDirtyBitsAreTheGuestsToFlush) {
  ASSERT_TRUE(pt_->map(kBase, 4 * 4096, 0x10000, kFlags | PTE_D).ok());
  Visit v;
  v.clear = PTE_D;
  auto r = walk_in_guest(root(), identity, kBase, kBase + 4 * 4096, visit, &v, batch_, record_commit, true);
  EXPECT_EQ(r.flush, ~0ull) << "four pages lowered: everything";
  EXPECT_TRUE(g_committed.empty()) << "no permission changed: nothing for the host to record";
  EXPECT_EQ(pt_->lookup(kBase) & PTE_D, 0u);

  ASSERT_TRUE(pt_->map(kBase, 4 * 4096, 0x10000, kFlags | PTE_D).ok());
  r = walk_in_guest(root(), identity, kBase + 4096, kBase + 8192, visit, &v, batch_, record_commit, true);
  EXPECT_EQ(r.flush, kBase + 4096) << "one page lowered: that page";
}

TEST_F(GuestWalk, WithoutTheGateTheHostFlushesEachLoweredPage) {
  ASSERT_TRUE(pt_->map(kBase, 4 * 4096, 0x10000, kFlags | PTE_D).ok());
  Visit v;
  v.clear = PTE_D;
  auto r = walk_in_guest(root(), identity, kBase, kBase + 4 * 4096, visit, &v, batch_, record_commit, false);
  EXPECT_EQ(r.flush, 0u);
  ASSERT_EQ(g_committed.size(), 4u);
  EXPECT_EQ(g_committed[2].va, kBase + 8192);
  EXPECT_TRUE(g_committed[2].old & PTE_D) << "the entry as it was before the callback";
}

TEST_F(GuestWalk, PermissionChangesGoToTheHostInBatches) {
  ASSERT_TRUE(pt_->map(kBase, 100 * 4096, 0x100000, kFlags).ok());
  Visit v;
  v.clear = PTE_W;
  auto r = walk_in_guest(root(), identity, kBase, kBase + 100 * 4096, visit, &v, batch_, record_commit, true);
  EXPECT_EQ(r.ret, 0);
  EXPECT_EQ(g_batches, (std::vector<uint32_t>{kWalkBatch, 100 - kWalkBatch}));
  ASSERT_EQ(g_committed.size(), 100u);
  EXPECT_EQ(g_committed[99].ptep, reinterpret_cast<uint64_t>(pt_->leaf_slot(kBase + 99 * 4096, false).value()));
  EXPECT_EQ(batch_.root, reinterpret_cast<uint64_t>(root()));
}

TEST_F(GuestWalk, ACommitErrorIsReturned) {
  ASSERT_TRUE(pt_->map(kBase, 4096, 0x10000, kFlags).ok());
  g_commit_result = -EFAULT;
  Visit v;
  v.clear = PTE_W;
  auto r = walk_in_guest(root(), identity, kBase, kBase + 4096, visit, &v, batch_, record_commit, true);
  EXPECT_EQ(r.ret, -EFAULT);
}

TEST_F(GuestWalk, LookupFindsTheLeafSlotWhereATableIs) {
  ASSERT_TRUE(pt_->map(kBase + 4096, 4096, 0x10000, kFlags).ok());
  EXPECT_EQ(lookup_in_guest(root(), identity, kBase + 4096 + 123), pt_->leaf_slot(kBase + 4096, false).value());
  uint64_t* empty = lookup_in_guest(root(), identity, kBase);
  ASSERT_NE(empty, nullptr) << "same leaf table, entry not set: a slot all the same, as the host's";
  EXPECT_EQ(*empty, 0u);
  EXPECT_EQ(lookup_in_guest(root(), identity, kBase + (1ull << 30)), nullptr) << "no table: -ENOENT";
}

// dune_vm_mprotect on pgroot in the guest.
bool mprotect(uint64_t* root, uint64_t start, uint64_t end, uint64_t flags, bool may_lower, GuestFlush& flush) {
  LeafChange c;
  c.flags = flags;
  c.may_lower = may_lower;
  return protect_in_guest(root, identity, start, end, c, flush);
}

// dune_vm_mprotect in the guest: only where every page's leaf holds the
// program's permission already; all pages or none.
TEST_F(GuestWalk, MprotectInTheGuestOnlyOverTheProgramsOwnLeaves) {
  const uint64_t own = kFlags | pte::kProgramPerm;
  const uint64_t read_only = main_flags(PERM_R, true);
  ASSERT_TRUE(pt_->map(kBase, 4 * 4096, 0x10000, own).ok());
  ASSERT_TRUE(pt_->map(kBase + 4 * 4096, 4096, 0x14000, kFlags).ok());  // the library's leaf
  GuestFlush flush;
  EXPECT_FALSE(mprotect(root(), kBase, kBase + 5 * 4096, read_only, true, flush))
      << "a page the host has not recorded";
  EXPECT_EQ(pt_->lookup(kBase), 0x10000 | own) << "nothing changed";
  EXPECT_FALSE(mprotect(root(), kBase + 8 * 4096, kBase + 9 * 4096, read_only, true, flush))
      << "no leaf";
  EXPECT_FALSE(mprotect(root(), kBase, kBase + 2 * 4096, read_only, false, flush))
      << "a lowering where the caller cannot flush";
  EXPECT_EQ(flush.page, 0u);

  EXPECT_TRUE(mprotect(root(), kBase, kBase + 4 * 4096, read_only, true, flush));
  for (int i = 0; i < 4; ++i) {
    uint64_t leaf = pt_->lookup(kBase + i * 4096);
    EXPECT_EQ(leaf & PTE_W, 0u);
    EXPECT_EQ(leaf & pte::kProgramPerm, pte::kProgramPerm) << "still the program's record";
    EXPECT_EQ(PTE_ADDR(leaf), 0x10000u + i * 4096);
  }
  EXPECT_EQ(flush.page, ~0ull) << "four lowered pages: flush everything";

  // One page back to writable: a raise, nothing to flush, and allowed
  // without the gate.
  GuestFlush one;
  uint64_t* slot = lookup_in_guest(root(), identity, kBase + 4096);
  *slot &= ~PTE_D;  // the MMU's bit, kept where the grant does not change
  EXPECT_TRUE(mprotect(root(), kBase + 4096, kBase + 2 * 4096, main_flags(PERM_R, true), false, one));
  EXPECT_EQ(*slot & PTE_D, 0u);
  EXPECT_TRUE(mprotect(root(), kBase + 4096, kBase + 2 * 4096, main_flags(PERM_R | PERM_W, true),
                                false, one));
  EXPECT_NE(*slot & PTE_W, 0u);
  EXPECT_EQ(one.page, 0u);
}

// A leaf that holds the program's permission is its own record: a callback's
// change of it needs no commit, only the flush of what it took away.
TEST_F(GuestWalk, RecordedLeavesChangeWithoutTheHost) {
  ASSERT_TRUE(pt_->map(kBase, 4 * 4096, 0x10000, kFlags | pte::kProgramPerm).ok());
  ASSERT_TRUE(pt_->map(kBase + 4 * 4096, 4096, 0x14000, kFlags).ok());
  Visit v;
  v.clear = PTE_W;
  auto r = walk_in_guest(root(), identity, kBase, kBase + 5 * 4096, visit, &v, batch_, record_commit, true);
  EXPECT_EQ(r.ret, 0);
  ASSERT_EQ(g_committed.size(), 1u) << "only the leaf the host has not recorded";
  EXPECT_EQ(g_committed[0].va, kBase + 4 * 4096);
  EXPECT_EQ(r.flush, ~0ull) << "the four recorded pages lost PTE_W: the guest flushes";
  for (int i = 0; i < 4; ++i) EXPECT_EQ(pt_->lookup(kBase + i * 4096) & PTE_W, 0u);
  // A callback that drops the record itself tells the host again.
  g_committed.clear();
  v.clear = pte::kProgramPerm;
  (void)walk_in_guest(root(), identity, kBase, kBase + 4096, visit, &v, batch_, record_commit, true);
  EXPECT_EQ(g_committed.size(), 0u) << "no permission changed";
  v.clear = PTE_W | pte::kProgramPerm;
  *lookup_in_guest(root(), identity, kBase + 4096) |= PTE_W | pte::kProgramPerm;
  (void)walk_in_guest(root(), identity, kBase + 4096, kBase + 2 * 4096, visit, &v, batch_, record_commit, true);
  EXPECT_EQ(g_committed.size(), 1u) << "a permission changed on a leaf that is no record any more";
}

// No access on pgroot is a record too: a leaf that is not present keeps the
// page's address and pte::kProgramPerm, so the guest can give the access back
// without the host (the original's PERM_NONE leaf kept its address too).
TEST_F(GuestWalk, NoAccessIsARecordTheGuestCanRaiseAgain) {
  const uint64_t own = kFlags | pte::kProgramPerm;
  ASSERT_TRUE(pt_->map(kBase, 2 * 4096, 0x10000, own).ok());
  GuestFlush flush;
  EXPECT_FALSE(mprotect(root(), kBase, kBase + 2 * 4096, 0, false, flush)) << "a lowering the caller cannot flush";
  ASSERT_TRUE(mprotect(root(), kBase, kBase + 2 * 4096, 0, true, flush));
  for (int i = 0; i < 2; ++i) {
    uint64_t leaf = pt_->lookup(kBase + i * 4096);
    EXPECT_EQ(leaf & PTE_P, 0u);
    EXPECT_TRUE(pte::is_record(leaf));
    EXPECT_EQ(PTE_ADDR(leaf), 0x10000u + i * 4096);
  }
  EXPECT_EQ(flush.page, ~0ull);
  // Seen by a walk (a non-zero leaf, as the original's), changed by no one.
  Visit v;
  auto r = walk_in_guest(root(), identity, kBase, kBase + 2 * 4096, visit, &v, batch_, record_commit, true);
  EXPECT_EQ(r.ret, 0);
  EXPECT_EQ(v.va.size(), 2u);
  EXPECT_TRUE(g_committed.empty());
  // Back to read-write: a raise, nothing to flush, no host.
  GuestFlush raise;
  ASSERT_TRUE(mprotect(root(), kBase, kBase + 2 * 4096, main_flags(PERM_R | PERM_W, true), false, raise));
  EXPECT_EQ(raise.page, 0u);
  EXPECT_EQ(pt_->lookup(kBase + 4096), 0x11000 | main_flags(PERM_R | PERM_W, true) | pte::kProgramPerm);
}

// The host's rewrite (a resync, a stale-leaf fault) keeps a record of no
// access as it keeps a present one.
TEST_F(GuestWalk, TheHostsRewriteKeepsARecordOfNoAccess) {
  ASSERT_TRUE(pt_->map(kBase, 4096, 0x10000, pte::kProgramPerm).ok()) << "the host's own record of no access";
  EXPECT_EQ(pt_->lookup(kBase), 0x10000 | pte::kProgramPerm);
  uint64_t* slot = lookup_in_guest(root(), identity, kBase);
  *slot |= PTE_P | PTE_U;  // the guest raised it since
  ASSERT_TRUE(pt_->map_keep(kBase, 4096, 0x10000, pte::kProgramPerm, true).ok());
  EXPECT_EQ(*slot & PTE_P, PTE_P) << "the guest's word is the newer";
  ASSERT_TRUE(pt_->map_keep(kBase, 4096, 0x10000, kFlags, false).ok());
  EXPECT_EQ(*slot, 0x10000 | kFlags) << "replaced where the program's own mprotect ends the record";
}

// dune_vm_map_phys on pgroot: the address each leaf maps must be pa's.
TEST_F(GuestWalk, MapPhysOnPgrootChecksTheAddress) {
  ASSERT_TRUE(pt_->map(kBase, 2 * 4096, 0x10000, kFlags | pte::kProgramPerm).ok());
  LeafChange c;
  c.flags = main_flags(PERM_R, true);
  c.may_lower = true;
  c.pa = 0x20000;
  GuestFlush flush;
  EXPECT_FALSE(protect_in_guest(root(), identity, kBase, kBase + 2 * 4096, c, flush));
  EXPECT_EQ(pt_->lookup(kBase) & PTE_W, PTE_W) << "nothing changed";
  c.pa = 0x10000;
  EXPECT_TRUE(protect_in_guest(root(), identity, kBase, kBase + 2 * 4096, c, flush));
  EXPECT_EQ(pt_->lookup(kBase + 4096) & PTE_W, 0u);
}

// Another root (a sandbox's): no records; its present leaves take the new
// flags, its holes stay, unmap clears every leaf.
TEST_F(GuestWalk, AnotherRootsLeavesChangeAsTheHostWouldChangeThem) {
  ASSERT_TRUE(pt_->map(kBase, 2 * 4096, 0x10000, kFlags).ok());
  ASSERT_TRUE(pt_->map(kBase + 3 * 4096, 4096, 0x13000, kFlags).ok());
  LeafChange c;
  c.records = false;
  c.flags = leaf_flags(PERM_R | PERM_U, true);
  GuestFlush flush;
  EXPECT_FALSE(protect_in_guest(root(), identity, kBase, kBase + 4 * 4096, c, flush)) << "a lowering";
  c.may_lower = true;
  ASSERT_TRUE(protect_in_guest(root(), identity, kBase, kBase + 4 * 4096, c, flush));
  EXPECT_EQ(pt_->lookup(kBase), 0x10000 | c.flags);
  EXPECT_EQ(pt_->lookup(kBase + 2 * 4096), 0u) << "a hole stays a hole";
  EXPECT_EQ(pt_->lookup(kBase + 3 * 4096), 0x13000 | c.flags);
  EXPECT_EQ(flush.page, ~0ull);
  c.unmap = true;
  ASSERT_TRUE(protect_in_guest(root(), identity, kBase + 3 * 4096, kBase + 4 * 4096, c, flush));
  EXPECT_EQ(pt_->lookup(kBase + 3 * 4096), 0u);
  EXPECT_TRUE(protect_in_guest(root(), identity, kBase + 5 * 4096, kBase + 6 * 4096, c, flush)) << "nothing there";
}

TEST(GuestRoots, RegisteredWhileTheFlavourAllowsAndForgotten) {
  uint64_t own = 0, other = 0;
  allow_guest_page_walk(nullptr);
  register_guest_root(&other);
  EXPECT_FALSE(guest_root_known(&other)) << "the flavour walks nothing in the guest";
  allow_guest_page_walk(&own);
  register_guest_root(&other);
  EXPECT_TRUE(guest_root_known(&other));
  EXPECT_FALSE(guest_root_known(nullptr));
  forget_guest_root(&other);
  EXPECT_FALSE(guest_root_known(&other));
  allow_guest_page_walk(nullptr);
}

}  // namespace
}  // namespace dune::classic
