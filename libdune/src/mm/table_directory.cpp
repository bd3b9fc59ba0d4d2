#include "mm/table_directory.h"

namespace dune::table_directory {

namespace detail {
Chunk g_chunks[kMaxChunks];
std::atomic<uint32_t> g_count{0};
std::atomic<bool> g_complete{true};
std::atomic<uint64_t> g_generation{0};
}  // namespace detail

using namespace detail;

void add(uint64_t gpa, uint64_t hva, uint64_t bytes) {
  uint32_t n = g_count.load(std::memory_order_relaxed);
  if (n == kMaxChunks) {
    g_complete.store(false, std::memory_order_release);
    return;
  }
  Chunk& c = g_chunks[n];
  c.gpa = gpa;
  c.hva = hva;
  c.bytes = bytes;
  c.guest_mapped.store(false, std::memory_order_relaxed);
  // A reader that sees the new count sees the chunk.
  g_count.store(n + 1, std::memory_order_release);
}

void mark_guest_mapped(uint64_t hva) {
  uint32_t n = g_count.load(std::memory_order_acquire);
  for (uint32_t i = 0; i < n; ++i)
    if (g_chunks[i].hva == hva) g_chunks[i].guest_mapped.store(true, std::memory_order_release);
}

void note_release() { g_generation.fetch_add(1, std::memory_order_acq_rel); }

void clear() {
  note_release();
  g_count.store(0, std::memory_order_release);
  g_complete.store(true, std::memory_order_release);
}

}  // namespace dune::table_directory
