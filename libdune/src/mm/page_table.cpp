#include "mm/page_table.h"

#include "mm/pte.h"

namespace dune {

namespace {
// Upper levels grant everything; the leaf decides.
constexpr uint64_t kTableFlags = pte::kPresent | pte::kWritable | pte::kUser | pte::kAccessed;

inline void store(uint64_t& slot, uint64_t v) { __atomic_store_n(&slot, v, __ATOMIC_RELEASE); }
inline uint64_t load(const uint64_t& slot) { return __atomic_load_n(&slot, __ATOMIC_ACQUIRE); }
}  // namespace

Result<GuestPageTable> GuestPageTable::create(PageTableMemory* mem) {
  GuestPageTable pt;
  pt.mem_ = mem;
  auto root = mem->allocate();
  if (!root) return Error(root.error());
  pt.root_ = root.value();
  pt.table_pages_ = 1;
  return pt;
}

Result<uint64_t*> GuestPageTable::leaf_table(uint64_t va, bool create) {
  if (!create) {
    uint64_t next;
    return leaf_table_of(root_.hva, tables(), va, &next);
  }
  uint64_t* table = root_.hva;
  for (int level = 3; level > 0; --level) {
    int shift = 12 + 9 * level;
    uint64_t& e = table[(va >> shift) & 511];
    uint64_t v = load(e);
    if (!(v & pte::kPresent)) {
      auto page = mem_->allocate();
      if (!page) return Error(page.error());
      ++table_pages_;
      v = page->gpa | kTableFlags;
      store(e, v);
    }
    table = mem_->table_at(v & pte::kAddrMask);
  }
  return table;
}

Status GuestPageTable::map(uint64_t va, uint64_t len, uint64_t gpa, uint64_t flags) {
  return map_impl(va, len, gpa, flags, false, false);
}

Status GuestPageTable::map_keep(uint64_t va, uint64_t len, uint64_t gpa, uint64_t flags, bool keep_records) {
  return map_impl(va, len, gpa, flags, true, keep_records);
}

Status GuestPageTable::map_impl(uint64_t va, uint64_t len, uint64_t gpa, uint64_t flags, bool keep,
                                bool keep_records) {
  // What a leaf grants, and whose grant it is; the other bits are the MMU's
  // or the program's.
  constexpr uint64_t kGrant =
      pte::kAddrMask | pte::kPresent | pte::kWritable | pte::kUser | pte::kNoExec | pte::kProgramPerm;
  if (flags == 0) {
    unmap(va, len);
    return {};
  }
  uint64_t end = va + len;
  while (va < end) {
    auto t = leaf_table(va, true);
    if (!t) return Error(t.error());
    uint64_t* table = t.value();
    uint64_t table_end = (va | ((1ull << 21) - 1)) + 1;
    for (; va < end && va < table_end; va += pte::kPageSize, gpa += pte::kPageSize) {
      uint64_t& slot = table[(va >> 12) & 511];
      uint64_t want = gpa | flags;
      uint64_t old = load(slot);
      if (keep && (old & kGrant) == (want & kGrant)) continue;
      if (keep_records && pte::is_record(old) && (old & pte::kAddrMask) == gpa) continue;
      store(slot, want);
    }
  }
  return {};
}

void GuestPageTable::unmap(uint64_t va, uint64_t len) {
  walk_leaf_entries(root_.hva, tables(), va, len, [](uint64_t, uint64_t& leaf) {
    store(leaf, 0);
    return true;
  });
}

Result<uint64_t*> GuestPageTable::leaf_slot(uint64_t va, bool create) {
  auto t = leaf_table(va, create);
  if (!t) return Error(t.error());
  if (!t.value()) return static_cast<uint64_t*>(nullptr);
  return &t.value()[(va >> 12) & 511];
}

void GuestPageTable::destroy_level(uint64_t* table, int level) {
  for (int i = 0; i < 512; ++i) {
    uint64_t e = load(table[i]);
    if (!(e & pte::kPresent) || (e & pte::kLarge)) continue;
    if (level > 1) destroy_level(mem_->table_at(e & pte::kAddrMask), level - 1);
    mem_->release(e & pte::kAddrMask);
    --table_pages_;
  }
}

void GuestPageTable::destroy() {
  if (!root_.hva) return;
  destroy_level(root_.hva, 3);
  mem_->release(root_.gpa);
  root_ = {};
  table_pages_ = 0;
}

uint64_t GuestPageTable::lookup(uint64_t va) const {
  auto t = const_cast<GuestPageTable*>(this)->leaf_table(va, false);
  if (!t.ok() || !t.value()) return 0;
  return load(t.value()[(va >> 12) & 511]);
}

}  // namespace dune
