// memory_manager_faults.cpp - MemoryManager's answers to faults: a guest page
// fault the library may resolve (late mapping, stack growth, a stale leaf), an
// access the host refused, and whether a frame fits on the guest's stack.
#include "mm/memory_manager.h"
#include "mm/pte.h"

namespace dune {

namespace {

constexpr uint64_t kPage = 4096;
// Linux keeps this gap (stack_guard_gap, 256 pages) between a growing stack
// and the mapping below it.
constexpr uint64_t kStackGuardGap = 256 * kPage;
// A stack fault grows the stack by up to this much at once, to save exits.
constexpr uint64_t kStackGrowStep = 64 * 1024;

uint64_t page_floor(uint64_t a) { return a & ~(kPage - 1); }

}  // namespace

bool MemoryManager::grow_stack(uint64_t addr) {
  auto [above, stack] = space_.regions().next_above(addr);
  if (!stack || !stack->growsdown) return false;
  // Linux refuses to grow past RLIMIT_STACK or into the guard gap.
  uint64_t top = above.end;
  for (auto next = space_.regions().next_above(top - 1);
       next.second && next.second->growsdown && next.first.start == top;
       next = space_.regions().next_above(top - 1))
    top = next.first.end;
  uint64_t lowest = top > stack_rlimit_ ? page_floor(top - stack_rlimit_) : 0;
  auto [below, prev] = space_.regions().last_below(addr);
  if (prev && below.end + kStackGuardGap > lowest) lowest = below.end + kStackGuardGap;
  uint64_t want = page_floor(addr);
  if (want < lowest) return false;
  uint64_t target = want > lowest + kStackGrowStep ? want - kStackGrowStep + kPage : lowest;
  if (target > want) target = want;
  RegionAttrs attrs = *stack;
  // A host read below the stack makes Linux expand it, as the guest's own
  // access would have natively.
  (void)*reinterpret_cast<volatile const char*>(target);
  return set(Range{target, above.start}, attrs).ok();
}

FaultVerdict MemoryManager::on_page_fault(uint64_t addr, uint64_t err) {
  auto lk = lock();
  bool write = err & 2, fetch = err & 16;
  auto permits = [&](uint64_t page) {
    auto a = attrs_at(page);
    if (!a || !slots_.gpa_of(page)) return false;
    uint64_t f = effective_flags(page, *a);
    if (!(f & pte::kPresent) || !(f & pte::kUser)) return false;
    if (write && !(f & pte::kWritable)) return false;
    if (fetch && (f & pte::kNoExec)) return false;
    return true;
  };
  uint64_t page = page_floor(addr);
  FaultVerdict v;
  // A page-table chunk made after the program last used the classic API.
  if (pool_.holds(page) && !attrs_at(page)) (void)expose_tables();
  if (permits(page)) {
    // Stale guest leaf (another thread's change, or one this library skipped):
    // rewrite it and run the instruction again.
    (void)write_ptes(Range{page, page + kPage});
    v.retry = true;
    return v;
  }
  if (!attrs_at(page) && grow_stack(addr)) {
    v.retry = true;
    return v;
  }
  // Maybe mapped behind the library's back (a thread outside Dune mode, a
  // syscall the library does not track): look again at the kernel's view.
  if (!attrs_at(page) || !slots_.gpa_of(page)) {
    (void)resync_all();
    if (permits(page)) {
      v.retry = true;
      return v;
    }
  }
  auto a = attrs_at(page);
  v.mapped = a.has_value();
  v.prot = a ? (a->guard ? PROT_NONE : a->prot) : PROT_NONE;
  return v;
}

bool MemoryManager::guest_can_write(uint64_t lo, uint64_t hi) {
  for (uint64_t page = page_floor(lo); page < hi; page += kPage) {
    auto a = [&] {
      auto lk = lock();
      return attrs_at(page);
    }();
    if (a && (a->prot & PROT_WRITE) && !a->guard && a->kind != RegionKind::kMonitor) continue;
    // FEC_W | FEC_U: a user write, as the guest's own access would be.
    if (!on_page_fault(page, 2 | 4).retry) return false;
  }
  return true;
}

FaultVerdict MemoryManager::on_host_fault(uint64_t gpa) {
  auto hva = hva_of_gpa(gpa);
  FaultVerdict v;
  if (!hva) return v;
  auto lk = lock();
  uint64_t page = page_floor(*hva);
  uint64_t before = pt_->lookup(page);
  // The guest page is valid but the host refused: the host's mapping changed
  // without the library seeing it. Re-read it; if the guest page changed, the
  // access can be retried and will now fault precisely in the guest.
  (void)resync_all();
  if (pt_->lookup(page) != before) {
    v.retry = true;
    return v;
  }
  auto a = attrs_at(page);
  v.mapped = a.has_value();
  v.prot = a ? a->prot : PROT_NONE;
  return v;
}

}  // namespace dune
