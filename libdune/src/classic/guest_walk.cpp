#include "classic/guest_walk.h"

#include <atomic>

#include "classic/vm_perm.h"
#include "mm/leaf_walk.h"
#include "mm/pte.h"

namespace dune::classic {

namespace {
// In the library's own data, which the guest maps.
std::atomic<uint64_t*> g_root{nullptr};
}  // namespace

void allow_guest_page_walk(uint64_t* root) { g_root.store(root, std::memory_order_release); }
uint64_t* guest_walk_root() { return g_root.load(std::memory_order_acquire); }

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
      constexpr uint64_t kRecord = PTE_P | pte::kProgramPerm;
      bool recorded = (old & kRecord) == kRecord && (now & kRecord) == kRecord && PTE_ADDR(now) == PTE_ADDR(old);
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

bool mprotect_in_guest(uint64_t* root, TableAtFn table_at, uint64_t start, uint64_t end, uint64_t flags,
                       bool may_lower, GuestFlush& flush) {
  constexpr uint64_t kRecord = PTE_P | pte::kProgramPerm;
  auto next_of = [&](uint64_t old) { return PTE_ADDR(old) | flags | pte::kProgramPerm; };
  auto apply = [&](uint64_t va, uint64_t& leaf, uint64_t old) {
    uint64_t now = next_of(old);
    // The same grant keeps the bits the MMU set, as the host's rewrite does.
    if ((old & kGrantBits) == (now & kGrantBits)) return;
    __atomic_store_n(&leaf, now, __ATOMIC_RELEASE);
    if (lowers(old, now)) flush.add(va);
  };
  // One page (a handler unprotecting its page): one descent.
  if (end - start == kPage) {
    uint64_t* slot = lookup_in_guest(root, table_at, start);
    if (!slot) return false;
    uint64_t old = __atomic_load_n(slot, __ATOMIC_ACQUIRE);
    if ((old & kRecord) != kRecord || (!may_lower && lowers(old, next_of(old)))) return false;
    apply(start, *slot, old);
    return true;
  }
  // First every page, unchanged: all of them qualify or none is touched.
  uint64_t pages = 0;
  bool ok = true;
  walk_leaf_entries(root, table_at, start, end - start, [&](uint64_t, uint64_t& leaf) {
    uint64_t old = __atomic_load_n(&leaf, __ATOMIC_ACQUIRE);
    ok = (old & kRecord) == kRecord && (may_lower || !lowers(old, next_of(old)));
    ++pages;
    return ok;
  });
  if (!ok || pages != (end - start) / kPage) return false;
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
