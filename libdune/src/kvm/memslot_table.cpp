#include "kvm/memslot_table.h"

namespace dune {

namespace {
// Slots in use past which a region growing from a slot's end extends it.
constexpr size_t kMergeAbove = 256;
}  // namespace

MemslotTable::MemslotTable(SlotBackend* backend, GpaAllocator gpa, uint64_t budget_bytes,
                           uint32_t max_slots, std::pmr::memory_resource* mr)
    : backend_(backend), gpa_(std::move(gpa)), budget_(budget_bytes), slots_(mr), free_ids_(mr) {
  free_ids_.reserve(max_slots);
  // Hand out low ids first.
  for (uint32_t i = max_slots; i > 0; --i) free_ids_.push_back(i - 1);
}

uint64_t MemslotTable::uncovered_bytes(Range r) const {
  uint64_t covered = 0;
  for_each_in(r, [&](Range piece, uint64_t) { covered += piece.size(); });
  return r.size() - covered;
}

std::optional<uint64_t> MemslotTable::gpa_of(uint64_t hva) const {
  auto it = slots_.upper_bound(hva);
  if (it == slots_.begin()) return std::nullopt;
  --it;
  if (hva >= it->second.end) return std::nullopt;
  return it->second.gpa + (hva - it->first);
}

Status MemslotTable::add_slot(uint64_t start, uint64_t end, uint64_t gpa) {
  if (free_ids_.empty()) return Error(-ENOSPC);
  uint32_t id = free_ids_.back();
  Status s = backend_->set_slot(id, gpa, end - start, start);
  if (!s) return s;
  free_ids_.pop_back();
  slots_.emplace(start, Slot{end, gpa, id});
  covered_ += end - start;
  return {};
}

Status MemslotTable::remove_slot(std::pmr::map<uint64_t, Slot>::iterator it) {
  Status s = backend_->set_slot(it->second.id, it->second.gpa, 0, it->first);
  if (!s) return s;
  covered_ -= it->second.end - it->first;
  free_ids_.push_back(it->second.id);
  slots_.erase(it);
  return {};
}

Status MemslotTable::cover(Range r) {
  if (r.empty()) return {};
  uint64_t more = uncovered_bytes(r);
  if (more == 0) return {};
  if (!would_fit(more)) return Error(-ENOMEM);
  // Collect the gaps first: adding slots changes the map being walked.
  struct Gap {
    uint64_t start, end;
  };
  std::pmr::vector<Gap> gaps(slots_.get_allocator().resource());
  uint64_t cur = r.start;
  for_each_in(r, [&](Range piece, uint64_t) {
    if (piece.start > cur) gaps.push_back({cur, piece.start});
    cur = piece.end;
  });
  if (cur < r.end) gaps.push_back({cur, r.end});

  std::pmr::vector<uint64_t> added(slots_.get_allocator().resource());
  for (const Gap& g : gaps) {
    // A region that grows a page at a time (a thread's malloc arena, made
    // writable by mprotect as it grows) would take a slot per step: once
    // slots are many (each one makes every later slot change slower), the
    // slot just below grows instead (identity layout: its guest-physical
    // range extends too). Re-registering it makes KVM drop its mappings, so
    // this is kept for when it pays.
    if (identity() && slots_.size() >= kMergeAbove && added.empty() && extend_below(g.start, g.end))
      continue;
    auto gpa = gpa_.allocate(g.start, g.end - g.start);
    Status s = gpa ? add_slot(g.start, g.end, *gpa) : Status(Error(-ENOMEM));
    if (!s) {
      if (gpa) gpa_.release(*gpa, g.end - g.start);
      // Undo what this call added, so that a failure leaves nothing behind.
      for (uint64_t start : added) {
        auto it = slots_.find(start);
        uint64_t gpa_start = it->second.gpa, size = it->second.end - it->first;
        if (remove_slot(it)) gpa_.release(gpa_start, size);
      }
      return s;
    }
    added.push_back(g.start);
  }
  return {};
}

bool MemslotTable::extend_below(uint64_t start, uint64_t end) {
  auto it = slots_.lower_bound(start);
  if (it == slots_.begin()) return false;
  --it;
  if (it->second.end != start || it->second.gpa != it->first) return false;
  uint64_t base = it->first, old_end = it->second.end;
  if (!remove_slot(it)) return false;
  if (add_slot(base, end, base)) return true;
  (void)add_slot(base, old_end, base);
  return false;
}

Status MemslotTable::uncover(Range r) {
  if (r.empty()) return {};
  auto it = slots_.upper_bound(r.start);
  if (it != slots_.begin()) --it;
  while (it != slots_.end() && it->first < r.end) {
    if (it->second.end <= r.start) {
      ++it;
      continue;
    }
    uint64_t start = it->first;
    Slot slot = it->second;
    auto next = std::next(it);
    Status s = remove_slot(it);
    if (!s) return s;
    // Keep the parts outside r, at the same guest-physical addresses (guest
    // page tables point at them).
    uint64_t cut_start = start > r.start ? start : r.start;
    uint64_t cut_end = slot.end < r.end ? slot.end : r.end;
    if (start < cut_start) {
      s = add_slot(start, cut_start, slot.gpa);
      if (!s) return s;
    }
    if (cut_end < slot.end) {
      s = add_slot(cut_end, slot.end, slot.gpa + (cut_end - start));
      if (!s) return s;
      next = slots_.find(cut_end);
      ++next;
    }
    gpa_.release(slot.gpa + (cut_start - start), cut_end - cut_start);
    it = next;
  }
  return {};
}

Status MemslotTable::reregister(SlotBackend* backend) {
  backend_ = backend;
  for (const auto& [start, slot] : slots_)
    DUNE_TRY(backend_->set_slot(slot.id, slot.gpa, slot.end - start, start));
  return {};
}

Status MemslotTable::set_budget(uint64_t bytes) {
  if (bytes < covered_) return Error(-EBUSY);
  budget_ = bytes;
  return {};
}

void MemslotTable::clear() {
  while (!slots_.empty()) {
    auto it = slots_.begin();
    uint64_t gpa = it->second.gpa, size = it->second.end - it->first;
    if (!remove_slot(it)) {
      slots_.erase(slots_.begin());
    }
    gpa_.release(gpa, size);
  }
}

}  // namespace dune
