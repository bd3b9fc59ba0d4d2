// memory_manager_vm.cpp - the MemoryManager's part of the classic API: the
// program's overrides of its own leaves, extra tables (sandbox roots), the
// follower table, and invalidation of what KVM cached from guest leaves.
#include <new>

#include "base/log.h"
#include "base/raw_syscall.h"
#include "mm/memory_manager.h"
#include "mm/pte.h"
#include "mm/table_directory.h"

namespace dune {

namespace {
// Static TLS: set and read on the host side of one thread.
__attribute__((tls_model("initial-exec"))) thread_local GuestPageTable* t_follower = nullptr;
}  // namespace

void MemoryManager::set_follower(GuestPageTable* t) { t_follower = t; }

void MemoryManager::follow(Range r) {
  GuestPageTable* f = t_follower;
  if (!f || f == &*pt_ || r.empty()) return;
  f->unmap(r.start, r.size());
  pt_->for_each_leaf(r.start, r.size(), [&](uint64_t va, uint64_t& leaf) {
    // The page tables' own memory is the launcher's alone.
    if (pool_.holds(va)) return;
    (void)f->map(va, pte::kPageSize, leaf & pte::kAddrMask, leaf & pte::kFlagsMask);
  });
}

uint64_t MemoryManager::effective_flags(uint64_t page, const RegionAttrs& a) const {
  if (!a.library_owned()) {
    // The program's own leaf is the newest word on it (Records).
    uint64_t leaf = pt_->lookup(page);
    if (pte::is_record(leaf)) return leaf & pte::kFlagsMask;
    if (auto o = override_at(page)) return *o;
  }
  return guest_flags(a);
}

Status MemoryManager::map_with_overrides(Range part, uint64_t gpa, uint64_t flags, bool user_memory,
                                         Records records) {
  bool keep = user_memory && records == Records::kKeep;
  if (!user_memory || overrides_.empty()) return pt_->map_keep(part.start, part.size(), gpa, flags, keep);
  Status result;
  auto put = [&](uint64_t s, uint64_t e, uint64_t f) {
    if (s >= e) return;
    if (!f) {
      pt_->unmap(s, e - s);
      return;
    }
    Status st = pt_->map_keep(s, e - s, gpa + (s - part.start), f, keep);
    if (!st) result = st;
  };
  uint64_t cursor = part.start;
  overrides_.for_each(part.start, part.end, [&](Range o, uint64_t& f) {
    put(cursor, o.start, flags);
    put(o.start, o.end, f);
    cursor = o.end;
  });
  put(cursor, part.end, flags);
  return result;
}

void MemoryManager::set_override(Range r, uint64_t flags) {
  // The leaves written from it say whose permission they hold, no access
  // included (pte.h).
  flags |= pte::kProgramPerm;
  // Only where the program has memory: elsewhere there is nothing to protect.
  space_.regions().for_each(r.start, r.end, [&](Range piece, RegionAttrs& a) {
    if (!a.library_owned()) overrides_.assign(piece.start, piece.end, flags);
  });
}

std::optional<uint64_t> MemoryManager::override_at(uint64_t page) const {
  auto [range, v] = overrides_.find(page);
  if (!v) return std::nullopt;
  return *v;
}

Status MemoryManager::expose_tables() {
  // Writing the chunks' leaves may take table pages from a new chunk: the
  // count is read again on every round.
  for (size_t i = 0; i < pool_.chunk_count(); ++i) {
    uint64_t s = pool_.chunk_start(i);
    auto a = attrs_at(s);
    if (a && a->kind == RegionKind::kPageTables) continue;
    space_.regions().assign(s, s + PageTablePool::kChunkBytes,
                            RegionAttrs{PROT_READ | PROT_WRITE, RegionKind::kPageTables});
    DUNE_TRY(write_ptes(Range{s, s + PageTablePool::kChunkBytes}));
    if (config_.publish_tables) table_directory::mark_guest_mapped(s);
  }
  return {};
}

Status MemoryManager::copy_leaves(GuestPageTable& t, Range r, bool supervisor_only) {
  Status result;
  t.unmap(r.start, r.size());
  pt_->for_each_leaf(r.start, r.size(), [&](uint64_t va, uint64_t& leaf) {
    if (pool_.holds(va)) return;
    uint64_t f = leaf & pte::kFlagsMask;
    if (supervisor_only) f &= ~pte::kUser;
    Status s = t.map(va, pte::kPageSize, leaf & pte::kAddrMask, f);
    if (!s) result = s;
  });
  return result;
}

Result<GuestPageTable*> MemoryManager::new_table() {
  auto pt = GuestPageTable::create(&pool_);
  if (!pt) return Error(pt.error());
  void* mem = mr_->allocate(sizeof(GuestPageTable), alignof(GuestPageTable));
  auto* t = new (mem) GuestPageTable(std::move(pt.value()));
  Status result;
  space_.regions().for_each([&](Range r, RegionAttrs& a) {
    if (a.kind != RegionKind::kMonitor) return;
    Status s = copy_leaves(*t, r);
    if (!s) result = s;
  });
  extra_.push_back(t);
  if (!result) {
    destroy_table(t);
    return Error(result.error());
  }
  return t;
}

GuestPageTable* MemoryManager::table_by_root(uint64_t root_hva) {
  if (reinterpret_cast<uint64_t>(pt_->root_hva()) == root_hva) return &*pt_;
  for (GuestPageTable* t : extra_)
    if (reinterpret_cast<uint64_t>(t->root_hva()) == root_hva) return t;
  return nullptr;
}

GuestPageTable* MemoryManager::table_by_root_gpa(uint64_t root_gpa) {
  if (pt_->root_gpa() == root_gpa) return &*pt_;
  for (GuestPageTable* t : extra_)
    if (t->root_gpa() == root_gpa) return t;
  return nullptr;
}

void MemoryManager::destroy_table(GuestPageTable* t) {
  for (size_t i = 0; i < extra_.size(); ++i) {
    if (extra_[i] != t) continue;
    extra_.erase(extra_.begin() + static_cast<long>(i));
    t->destroy();
    t->~GuestPageTable();
    mr_->deallocate(t, sizeof(GuestPageTable), alignof(GuestPageTable));
    return;
  }
}

std::optional<uint64_t> MemoryManager::gpa_of(uint64_t hva) const { return slots_.gpa_of(hva); }

void MemoryManager::invalidate(Range hva) {
  // KVM keeps what it derived from a guest leaf until the host's MMU notifier
  // tells it the memory behind changed; a host mprotect does. One that only
  // adds a permission, then takes it back, never refuses anybody an access in
  // between (docs/platform-notes.md has what was measured).
  space_.regions().for_each(hva.start, hva.end, [&](Range piece, RegionAttrs& a) {
    if (a.library_owned() || a.guard || !(a.prot & (PROT_READ | PROT_WRITE | PROT_EXEC))) return;
    void* p = reinterpret_cast<void*>(piece.start);
    int prot = a.prot;
    if (!(prot & PROT_EXEC) && sys::mprotect(p, piece.size(), prot | PROT_EXEC) == 0) {
      sys::mprotect(p, piece.size(), prot);
      return;
    }
    if (!(prot & PROT_WRITE) && !a.shared && sys::mprotect(p, piece.size(), prot | PROT_WRITE) == 0) {
      sys::mprotect(p, piece.size(), prot);
      return;
    }
    // Nothing to add (read-write-execute) or not allowed to: take write away
    // and give it back. A write of another vCPU in between is a host fault
    // that waits for this lock and then completes (GuestThread::on_mmio, or a
    // retry where KVM reports it as -EFAULT).
    int lowered = (prot & PROT_WRITE) ? (prot & ~PROT_WRITE) : PROT_NONE;
    if (sys::mprotect(p, piece.size(), lowered) == 0) sys::mprotect(p, piece.size(), prot);
  });
}

void MemoryManager::invalidate_all() { invalidate(Range{0, 1ull << 47}); }

}  // namespace dune
