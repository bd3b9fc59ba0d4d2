// page_table_pool.h - host memory for guest page-table pages, in 2 MiB chunks.
#pragma once

#include <cstdint>
#include <functional>
#include <memory_resource>
#include <vector>

#include "base/mapping.h"
#include "mm/page_table.h"

namespace dune {

class PageTablePool final : public PageTableMemory {
 public:
  static constexpr size_t kChunkBytes = 2u << 20;
  static constexpr size_t kPagesPerChunk = kChunkBytes / 4096;

  // register_chunk makes a new chunk guest-physical memory (a memory slot) and
  // returns its guest-physical base, or an error.
  using RegisterChunk = std::function<Result<uint64_t>(uint64_t hva, uint64_t size)>;

  // identity: chunks sit at guest-physical == host-virtual addresses.
  PageTablePool(RegisterChunk register_chunk, bool identity, std::pmr::memory_resource* mr)
      : register_(std::move(register_chunk)), identity_(identity), chunks_(mr), free_(mr) {}

  Result<Page> allocate() override;
  void release(uint64_t gpa) override;
  uint64_t* table_at(uint64_t gpa) const override;

  size_t pages_in_use() const { return in_use_; }
  size_t chunk_count() const { return chunks_.size(); }
  uint64_t chunk_start(size_t i) const { return chunks_[i].mem.start(); }
  // True if hva lies in a chunk.
  bool holds(uint64_t hva) const {
    for (const Chunk& c : chunks_)
      if (hva >= c.mem.start() && hva < c.mem.end()) return true;
    return false;
  }
  // Calls fn(start, end) for each chunk's host range.
  template <typename Fn>
  void for_each_chunk(Fn&& fn) const {
    for (const Chunk& c : chunks_) fn(c.mem.start(), c.mem.end());
  }

 private:
  struct Chunk {
    Mapping mem;
    uint64_t gpa;
    size_t used;  // pages handed out from the start
  };
  Status grow();

  RegisterChunk register_;
  bool identity_;
  std::pmr::vector<Chunk> chunks_;
  std::pmr::vector<uint64_t> free_;  // released pages (guest-physical), zeroed
  size_t current_ = 0;  // the chunk pages come from; earlier ones are full
  size_t in_use_ = 0;
  size_t available_ = 0;
};

}  // namespace dune
