// table_directory.h - where each chunk of page-table memory sits, for code in
// the guest that walks the process's tables itself (classic/guest_walk.h, and
// guest ring 0 in monitor/exception_gate.cpp): the entries of a table hold
// guest-physical addresses, which are host addresses only in the identity
// layout. A fixed array in the library's own data (the guest maps it; the
// host arena it does not), appended by the host as the pool grows and read
// without a lock. The readers are inline: ring 0 compiles them its own way.
#pragma once

#include <atomic>
#include <cstdint>

namespace dune::table_directory {

namespace detail {
// 512 chunks of 2 MiB: a GiB of page tables, 128 TiB of mapped memory.
constexpr uint32_t kMaxChunks = 512;
struct Chunk {
  uint64_t gpa, hva, bytes;
  std::atomic<bool> guest_mapped;  // the guest's table maps it (expose_tables)
};
extern Chunk g_chunks[kMaxChunks];
extern std::atomic<uint32_t> g_count;
extern std::atomic<bool> g_complete;
extern std::atomic<uint64_t> g_generation;

inline const Chunk* chunk_of(uint64_t gpa) {
  uint32_t n = g_count.load(std::memory_order_acquire);
  for (uint32_t i = 0; i < n; ++i) {
    const Chunk& c = g_chunks[i];
    if (gpa >= c.gpa && gpa - c.gpa < c.bytes) return &c;
  }
  return nullptr;
}
}  // namespace detail

// Host side, under the memory manager's lock: a new chunk of `bytes` at gpa,
// whose memory is at hva.
void add(uint64_t gpa, uint64_t hva, uint64_t bytes);
// Host side: the chunk at hva is now mapped in the process's own table.
void mark_guest_mapped(uint64_t hva);
// Host side: a new process image's manager starts over.
void clear();
// Host side: a table page was released (it may come back as another), or
// the directory cleared: whoever keeps a table found earlier walks again.
void note_release();
inline uint64_t generation() { return detail::g_generation.load(std::memory_order_acquire); }
// False once a chunk did not fit: the guest must not walk on its own then.
inline bool complete() { return detail::g_complete.load(std::memory_order_acquire); }

// The memory of the table page at gpa, or nullptr if no chunk holds it.
inline uint64_t* table_at(uint64_t gpa) {
  const detail::Chunk* c = detail::chunk_of(gpa);
  return c ? reinterpret_cast<uint64_t*>(c->hva + (gpa - c->gpa)) : nullptr;
}
// The same, only where reading it cannot fault: for guest ring 0.
inline uint64_t* mapped_table_at(uint64_t gpa) {
  const detail::Chunk* c = detail::chunk_of(gpa);
  if (!c || !c->guest_mapped.load(std::memory_order_acquire)) return nullptr;
  return reinterpret_cast<uint64_t*>(c->hva + (gpa - c->gpa));
}

}  // namespace dune::table_directory
