#include "mm/table_directory.h"

#include <atomic>

namespace dune::table_directory {

namespace {
// 512 chunks of 2 MiB: a GiB of page tables, 128 TiB of mapped memory.
constexpr uint32_t kMaxChunks = 512;
struct Chunk {
  uint64_t gpa, hva, bytes;
};
Chunk g_chunks[kMaxChunks];
std::atomic<uint32_t> g_count{0};
std::atomic<bool> g_complete{true};
}  // namespace

void add(uint64_t gpa, uint64_t hva, uint64_t bytes) {
  uint32_t n = g_count.load(std::memory_order_relaxed);
  if (n == kMaxChunks) {
    g_complete.store(false, std::memory_order_release);
    return;
  }
  g_chunks[n] = Chunk{gpa, hva, bytes};
  // A reader that sees the new count sees the chunk.
  g_count.store(n + 1, std::memory_order_release);
}

void clear() {
  g_count.store(0, std::memory_order_release);
  g_complete.store(true, std::memory_order_release);
}

bool complete() { return g_complete.load(std::memory_order_acquire); }

uint64_t* table_at(uint64_t gpa) {
  uint32_t n = g_count.load(std::memory_order_acquire);
  for (uint32_t i = 0; i < n; ++i) {
    const Chunk& c = g_chunks[i];
    if (gpa >= c.gpa && gpa - c.gpa < c.bytes) return reinterpret_cast<uint64_t*>(c.hva + (gpa - c.gpa));
  }
  return nullptr;
}

}  // namespace dune::table_directory
