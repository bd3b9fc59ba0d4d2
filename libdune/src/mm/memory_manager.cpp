#include "mm/memory_manager.h"

#include <sys/resource.h>

#include "base/log.h"
#include "base/own_mappings.h"
#include "base/raw_syscall.h"
#include "mm/pte.h"
#include "mm/table_directory.h"

namespace dune {

namespace {

constexpr uint64_t kPage = 4096;
// Highest user address + 1 with 4-level paging.
constexpr uint64_t kUserTop = 1ull << 47;


GpaAllocator make_gpa_allocator(const MemoryConfig& c, std::pmr::memory_resource* mr) {
  // Identity needs every user address to be a valid guest-physical address.
  if (!c.force_packed && c.phys_bits >= 47) return GpaAllocator();
  uint64_t limit = 1ull << (c.phys_bits < 47 ? c.phys_bits : 47);
  return GpaAllocator(2ull << 20, limit, mr);
}

}  // namespace

MemoryManager::MemoryManager(SlotBackend* backend, const MemoryConfig& config,
                             std::pmr::memory_resource* mr)
    : config_(config),
      mr_(mr),
      space_(mr),
      slots_(backend, make_gpa_allocator(config, mr), config.budget_bytes, config.max_slots, mr),
      pool_([this](uint64_t hva, uint64_t size) { return register_table_chunk(hva, size); },
            slots_.identity(), mr),
      overrides_(mr),
      extra_(mr) {}

Result<uint64_t> MemoryManager::register_table_chunk(uint64_t hva, uint64_t size) {
  // Table pages are guest-physical memory the MMU walks, but no guest virtual
  // address maps them: the program cannot scribble on its own page tables.
  // Only the slot table changes here (this runs in the middle of page-table
  // updates that walk the mirror); resync() knows the pool's chunks.
  Range r{hva, hva + size};
  Status s = slots_.cover(r);
  if (!s) {
    if (s.error() == -ENOMEM) report_over_budget("page tables", size);
    return Error(s.error());
  }
  uint64_t gpa = *slots_.gpa_of(hva);
  if (config_.publish_tables) table_directory::add(gpa, hva, size);
  return gpa;
}

Status MemoryManager::init() {
  auto lk = lock();
  rlimit64 rl{};
  if (sys::syscall6(SYS_prlimit64, 0, RLIMIT_STACK, 0, reinterpret_cast<long>(&rl)) == 0)
    stack_rlimit_ = rl.rlim_cur;
  auto pt = GuestPageTable::create(&pool_);
  if (!pt) return Error(pt.error());
  pt_.emplace(std::move(pt.value()));
  return resync_all();
}

void MemoryManager::drop_slots(Range r) {
  // Page-table chunks have slots but no place in the mirror: never drop them.
  IntervalMap<bool> keep(mr_);
  pool_.for_each_chunk([&](uint64_t s, uint64_t e) {
    if (s < r.end && e > r.start) keep.assign(s, e, true);
  });
  keep.for_each_gap(r.start, r.end, [&](Range g) { (void)slots_.uncover(g); });
}

uint64_t MemoryManager::guest_flags(const RegionAttrs& a) const {
  switch (a.kind) {
    case RegionKind::kMonitor:
      return (a.prot & PROT_READ) ? pte::supervisor_flags(a.prot & PROT_WRITE, config_.nx) : 0;
    case RegionKind::kPageTables:
      return pte::user_flags(PROT_READ | PROT_WRITE, config_.nx);
    default:
      return a.guard ? 0 : pte::user_flags(a.prot, config_.nx);
  }
}

Status MemoryManager::write_ptes(Range r, Records records) {
  Status result;
  space_.regions().for_each(r.start, r.end, [&](Range piece, RegionAttrs& a) {
    uint64_t flags = guest_flags(a);
    bool user = !a.library_owned();
    // Only what a slot backs is mapped: a guest page over no memory would be an
    // access KVM cannot satisfy. A leaf that already grants the same keeps its
    // accessed and dirty bits (the program may be watching them).
    uint64_t cursor = piece.start;
    if (flags) {
      slots_.for_each_in(piece, [&](Range part, uint64_t gpa) {
        if (cursor < part.start) pt_->unmap(cursor, part.start - cursor);
        Status s = map_with_overrides(part, gpa, flags, user, records);
        if (!s) result = s;
        cursor = part.end;
      });
    }
    if (cursor < piece.end) pt_->unmap(cursor, piece.end - cursor);
  });
  space_.regions().for_each_gap(r.start, r.end, [&](Range g) { pt_->unmap(g.start, g.size()); });
  follow(r);
  return result;
}

void MemoryManager::report_over_budget(const char* what, uint64_t bytes) const {
  log::error("{}: mapping {} more bytes would exceed the memory-slot budget ({} of {} bytes in use); "
             "failing with ENOMEM (raise it with DUNE_MEM_BUDGET)",
             what, bytes, slots_.covered_bytes(), slots_.budget());
}

Status MemoryManager::set(Range r, const RegionAttrs& attrs) {
  if (r.empty()) return {};
  if (attrs.needs_slot()) {
    Status s = slots_.cover(r);
    if (!s) {
      if (s.error() == -ENOMEM) report_over_budget("mmap", slots_.uncovered_bytes(r));
      return Error(-ENOMEM);
    }
  }
  space_.regions().assign(r.start, r.end, attrs);
  overrides_.erase(r.start, r.end);
  Status s = write_ptes(r, Records::kReplace);
  if (!attrs.needs_slot()) drop_slots(r);
  return s;
}

void MemoryManager::remove(Range r) {
  if (r.empty()) return;
  space_.regions().erase(r.start, r.end);
  overrides_.erase(r.start, r.end);
  pt_->unmap(r.start, r.size());
  follow(r);
  drop_slots(r);
}

uint64_t MemoryManager::new_coverage(Range r, int prot) {
  if (!(prot & (PROT_READ | PROT_WRITE | PROT_EXEC))) return 0;
  uint64_t bytes = 0;
  space_.regions().for_each(r.start, r.end, [&](Range piece, RegionAttrs&) {
    bytes += slots_.uncovered_bytes(piece);
  });
  return bytes;
}

Status MemoryManager::protect(Range r, int prot) {
  if (r.empty()) return {};
  space_.regions().update(r.start, r.end, [&](RegionAttrs& a) { a.prot = prot; });
  overrides_.erase(r.start, r.end);
  Status result;
  space_.regions().for_each(r.start, r.end, [&](Range piece, RegionAttrs& a) {
    if (a.needs_slot()) {
      Status s = slots_.cover(piece);
      if (!s) result = s;
    }
  });
  if (!result) report_over_budget("mprotect", new_coverage(r, prot));
  Status s = write_ptes(r, Records::kReplace);
  space_.regions().for_each(r.start, r.end, [&](Range piece, RegionAttrs& a) {
    if (!a.needs_slot()) drop_slots(piece);
  });
  return result ? s : result;
}

void MemoryManager::lower(Range r, int prot) {
  space_.regions().for_each(r.start, r.end, [&](Range piece, RegionAttrs& a) {
    RegionAttrs lowered = a;
    lowered.prot = a.prot & prot;
    uint64_t now = guest_flags(a);
    uint64_t then = guest_flags(lowered);
    if (now == then) return;
    pt_->for_each_leaf(piece.start, piece.size(), [&](uint64_t, uint64_t& leaf) {
      uint64_t v = then ? ((leaf & pte::kAddrMask) | then) : 0;
      __atomic_store_n(&leaf, v, __ATOMIC_RELEASE);
    });
  });
  follow(r);
}

Status MemoryManager::resync(Range r) {
  auto snap = ProcMapsSnapshot::read_self();
  if (!snap) return Error(snap.error());
  // The target state of [r]: what the kernel shows...
  IntervalMap<RegionAttrs> target(mr_);
  snap->for_each([&](const ProcMapsEntry& e) {
    if (e.start >= kUserTop) return false;  // [vsyscall] is a kernel address
    uint64_t s = e.start > r.start ? e.start : r.start;
    uint64_t end = e.end < r.end ? e.end : r.end;
    if (s < end) target.assign(s, end, attrs_from_proc_maps(e));
    return e.start < r.end;
  });
  // The library's own host-side memory is not the program's.
  own_mappings::for_each(
      [](uint64_t s, uint64_t e, void* t) { static_cast<IntervalMap<RegionAttrs>*>(t)->erase(s, e); },
      &target);
  // ...except the library's own regions, and what /proc/self/maps cannot show
  // (MAP_GROWSDOWN, madvise flags) where the mapping did not change.
  space_.regions().for_each(r.start, r.end, [&](Range piece, RegionAttrs& a) {
    if (a.library_owned()) {
      target.assign(piece.start, piece.end, a);
      return;
    }
    target.update(piece.start, piece.end, [&](RegionAttrs& t) {
      if (t.prot == a.prot && t.shared == a.shared) t = a;
    });
  });

  space_.regions().erase(r.start, r.end);
  target.for_each([&](Range p, RegionAttrs& a) { space_.regions().assign(p.start, p.end, a); });

  // Back each run of touching regions with one slot where none is yet.
  Status result;
  Range run{};
  auto flush = [&] {
    if (run.empty()) return;
    Status s = slots_.cover(run);
    if (!s) {
      if (s.error() == -ENOMEM) report_over_budget("mapping", slots_.uncovered_bytes(run));
      result = s;
    }
    run = {};
  };
  space_.regions().for_each(r.start, r.end, [&](Range p, RegionAttrs& a) {
    if (!a.needs_slot()) {
      flush();
      return;
    }
    if (run.empty() || p.start != run.end) {
      flush();
      run.start = p.start;
    }
    run.end = p.end;
  });
  flush();
  Status s = write_ptes(r);
  if (!s) result = s;
  space_.regions().for_each_gap(r.start, r.end, [&](Range g) { drop_slots(g); });
  space_.regions().for_each(r.start, r.end, [&](Range p, RegionAttrs& a) {
    if (!a.needs_slot()) drop_slots(p);
  });
  return result;
}

Status MemoryManager::resync_all() { return resync(Range{0, kUserTop}); }

std::optional<RegionAttrs> MemoryManager::attrs_at(uint64_t addr) const {
  auto [range, a] = space_.find(addr);
  if (!a) return std::nullopt;
  return *a;
}

std::optional<Range> MemoryManager::region_at(uint64_t addr) const {
  auto [range, a] = space_.find(addr);
  if (!a) return std::nullopt;
  return range;
}

Status MemoryManager::set_guard(Range r, bool guard) {
  space_.regions().update(r.start, r.end, [&](RegionAttrs& a) { a.guard = guard; });
  return write_ptes(r);
}

void MemoryManager::set_dontfork(Range r, bool dontfork) {
  space_.regions().update(r.start, r.end, [&](RegionAttrs& a) { a.dontfork = dontfork; });
}

std::optional<uint64_t> MemoryManager::hva_of_gpa(uint64_t gpa) const {
  if (slots_.identity()) return gpa;
  std::optional<uint64_t> hva;
  slots_.for_each_in(Range{0, kUserTop}, [&](Range piece, uint64_t piece_gpa) {
    if (!hva && gpa >= piece_gpa && gpa < piece_gpa + piece.size()) hva = piece.start + (gpa - piece_gpa);
  });
  return hva;
}

Result<Mapping> MemoryManager::allocate_monitor(size_t bytes, int prot) {
  auto m = Mapping::anonymous(bytes, MAP_POPULATE);
  if (!m) return Error(m.error());
  auto lk = lock();
  Range r{m->start(), m->end()};
  Status s = set(r, RegionAttrs{prot, RegionKind::kMonitor});
  if (!s) {
    remove(r);
    return Error(s.error());
  }
  // Every table a vCPU may run on needs the monitor's structures.
  for (GuestPageTable* t : extra_) (void)copy_leaves(*t, r);
  return std::move(m.value());
}

void MemoryManager::release_monitor(Mapping m) {
  if (!m.get()) return;
  auto lk = lock();
  remove(Range{m.start(), m.end()});
  for (GuestPageTable* t : extra_) t->unmap(m.start(), m.size());
  m.reset();
}

Status MemoryManager::rebuild_after_fork(SlotBackend* backend) {
  DUNE_TRY(slots_.reregister(backend));
  IntervalMap<bool> gone(mr_);
  space_.regions().for_each([&](Range r, RegionAttrs& a) {
    if (a.dontfork) gone.assign(r.start, r.end, true);
  });
  gone.for_each([&](Range r, bool&) { remove(r); });
  return {};
}

Status MemoryManager::set_budget(uint64_t bytes) {
  auto lk = lock();
  return slots_.set_budget(bytes);
}

}  // namespace dune
