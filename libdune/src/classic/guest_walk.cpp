#include "classic/guest_walk.h"

#include <atomic>

#include "classic/vm_perm.h"
#include "mm/leaf_walk.h"
#include "mm/pte.h"

namespace dune::classic {

namespace {
// In the library's own data, which the guest maps.
std::atomic<uint64_t*> g_root{nullptr};
// The other roots: written by the host under the memory manager's lock, read
// by the guest without one.
constexpr int kKnownRoots = 64;
std::atomic<uint64_t*> g_known_roots[kKnownRoots];
}  // namespace

void allow_guest_page_walk(uint64_t* root) { g_root.store(root, std::memory_order_release); }
uint64_t* guest_walk_root() { return g_root.load(std::memory_order_acquire); }

void register_guest_root(uint64_t* root) {
  if (!g_root.load(std::memory_order_acquire)) return;  // the flavour says no
  for (auto& slot : g_known_roots) {
    uint64_t* expected = nullptr;
    if (slot.compare_exchange_strong(expected, root, std::memory_order_acq_rel)) return;
  }
}

void forget_guest_root(uint64_t* root) {
  for (auto& slot : g_known_roots) {
    uint64_t* expected = root;
    if (slot.compare_exchange_strong(expected, nullptr, std::memory_order_acq_rel)) return;
  }
}

bool guest_root_known(const uint64_t* root) {
  if (!root) return false;
  for (auto& slot : g_known_roots)
    if (slot.load(std::memory_order_acquire) == root) return true;
  return false;
}

GuestWalkResult walk_in_guest(uint64_t* root, TableAtFn table_at, uint64_t start, uint64_t end, page_walk_cb cb,
                              const void* arg, WalkBatch& batch, CommitFn commit, bool guest_flushes) {
  GuestWalkResult r;
  GuestFlush flush;
  batch.root = reinterpret_cast<uint64_t>(root);
  batch.count = 0;
  // Hands the changed entries to the host; its error ends the walk unless the
  // callback's return already does. The host's own flush joins the walk's.
  auto send = [&] {
    if (batch.count == 0) return;
    batch.used = batch.count;
    batch.flush = 0;
    long e = commit(batch);
    batch.count = 0;
    if (batch.flush) flush.add(batch.flush);
    if (e < 0 && r.ret == 0) r.ret = static_cast<int>(e);
  };
  walk_leaf_entries(root, table_at, start, end - start, [&](uint64_t va, uint64_t& leaf) {
    uint64_t old = __atomic_load_n(&leaf, __ATOMIC_ACQUIRE);
    r.ret = cb(arg, reinterpret_cast<ptent_t*>(&leaf), reinterpret_cast<void*>(va));
    uint64_t now = __atomic_load_n(&leaf, __ATOMIC_ACQUIRE);
    if (now != old) {
      bool granted = (now & kGrantBits) != (old & kGrantBits) || PTE_ADDR(now) != PTE_ADDR(old);
      // A leaf that was and stays the program's record of its permission
      // (pte::kProgramPerm, same page) needs no word to the host.
      bool recorded = pte::is_record(old) && pte::is_record(now) && PTE_ADDR(now) == PTE_ADDR(old);
      bool lowered = lowers(old, now);
      if ((granted && !recorded) || (lowered && !guest_flushes)) {
        // The host records it and flushes it (or says how).
        batch.e[batch.count++] = WalkBatch::Entry{va, reinterpret_cast<uint64_t>(&leaf), old};
        if (batch.count == kWalkBatch) send();
      } else if (lowered) {
        flush.add(va);
      }
    }
    return r.ret == 0;
  });
  send();
  r.flush = flush.page;
  return r;
}

bool protect_in_guest(uint64_t* root, TableAtFn table_at, uint64_t start, uint64_t end, const LeafChange& change,
                      GuestFlush& flush) {
  // The leaf a page gets, or `old` itself where the call leaves it alone.
  auto next_of = [&](uint64_t old) -> uint64_t {
    if (change.records) return PTE_ADDR(old) | change.flags | pte::kProgramPerm;
    if (change.unmap) return 0;
    if (!(old & PTE_P)) return old;
    return change.flags ? (PTE_ADDR(old) | change.flags) : 0;
  };
  auto qualifies = [&](uint64_t va, uint64_t old) {
    if (change.records && !pte::is_record(old)) return false;
    if (change.pa != LeafChange::kAnyAddress && PTE_ADDR(old) != change.pa + (va - start)) return false;
    return change.may_lower || !lowers(old, next_of(old));
  };
  auto apply = [&](uint64_t va, uint64_t& leaf, uint64_t old) {
    uint64_t now = next_of(old);
    // The same grant to the same owner keeps the bits the MMU set, as the
    // host's rewrite does.
    if (change.records && (old & kGrantBits) == (now & kGrantBits)) return;
    if (now == old) return;
    __atomic_store_n(&leaf, now, __ATOMIC_RELEASE);
    if (lowers(old, now)) flush.add(va);
  };
  // On pgroot (and for map_phys) every page must have its leaf; another
  // root's holes stay holes.
  bool every_page = change.records || change.pa != LeafChange::kAnyAddress;
  // One page (a handler unprotecting its page): one descent.
  if (end - start == kPage) {
    uint64_t* slot = lookup_in_guest(root, table_at, start);
    if (!slot) return !every_page;
    uint64_t old = __atomic_load_n(slot, __ATOMIC_ACQUIRE);
    if (!qualifies(start, old)) return false;
    apply(start, *slot, old);
    return true;
  }
  // First every page, unchanged: all of them qualify or none is touched.
  uint64_t pages = 0;
  bool ok = true;
  walk_leaf_entries(root, table_at, start, end - start, [&](uint64_t va, uint64_t& leaf) {
    ok = qualifies(va, __atomic_load_n(&leaf, __ATOMIC_ACQUIRE));
    ++pages;
    return ok;
  });
  if (!ok || (every_page && pages != (end - start) / kPage)) return false;
  walk_leaf_entries(root, table_at, start, end - start, [&](uint64_t va, uint64_t& leaf) {
    apply(va, leaf, __atomic_load_n(&leaf, __ATOMIC_ACQUIRE));
    return true;
  });
  return true;
}

uint64_t* lookup_in_guest(uint64_t* root, TableAtFn table_at, uint64_t va) {
  uint64_t next = 0;
  uint64_t* table = leaf_table_of(root, table_at, va, &next);
  return table ? &table[(va >> 12) & 511] : nullptr;
}

}  // namespace dune::classic
