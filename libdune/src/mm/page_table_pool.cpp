#include "mm/page_table_pool.h"

#include "mm/table_directory.h"

namespace dune {

Status PageTablePool::grow() {
  auto mem = Mapping::anonymous(kChunkBytes);
  if (!mem) return Error(mem.error());
  auto gpa = register_(mem->start(), kChunkBytes);
  if (!gpa) return Error(gpa.error());
  chunks_.push_back(Chunk{std::move(mem.value()), gpa.value(), 0});
  available_ += kPagesPerChunk;
  return {};
}

Result<PageTableMemory::Page> PageTablePool::allocate() {
  if (!free_.empty()) {
    uint64_t gpa = free_.back();
    free_.pop_back();
    ++in_use_;
    return Page{table_at(gpa), gpa};
  }
  if (available_ == 0) DUNE_TRY(grow());
  while (chunks_[current_].used == kPagesPerChunk) ++current_;
  Chunk& c = chunks_[current_];
  Page p{reinterpret_cast<uint64_t*>(c.mem.start() + c.used * 4096), c.gpa + c.used * 4096};
  ++c.used;
  --available_;
  ++in_use_;
  // Fresh anonymous memory is zero, and a page is never handed out twice.
  return p;
}

void PageTablePool::release(uint64_t gpa) {
  uint64_t* page = table_at(gpa);
  if (!page) return;
  for (int i = 0; i < 512; ++i) __atomic_store_n(&page[i], 0, __ATOMIC_RELAXED);
  free_.push_back(gpa);
  --in_use_;
  table_directory::note_release();
}

uint64_t* PageTablePool::table_at(uint64_t gpa) const {
  if (identity_) return reinterpret_cast<uint64_t*>(gpa);
  for (const Chunk& c : chunks_) {
    if (gpa >= c.gpa && gpa < c.gpa + kChunkBytes)
      return reinterpret_cast<uint64_t*>(c.mem.start() + (gpa - c.gpa));
  }
  return nullptr;
}

}  // namespace dune
