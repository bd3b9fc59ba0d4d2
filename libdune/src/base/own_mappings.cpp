#include "base/own_mappings.h"

#include <mutex>

#include "base/spin_lock.h"

namespace dune::own_mappings {

namespace {
// No allocation (this is called from the library's allocator): a fixed table,
// searched linearly on the rare re-reads. Untouched pages of it cost nothing.
constexpr int kCapacity = 65536;
struct Entry {
  uint64_t start, end;
};
Entry g_entries[kCapacity];
int g_count = 0;
SpinLock g_lock;
}  // namespace

void add(uint64_t start, uint64_t end) {
  std::lock_guard<SpinLock> g(g_lock);
  if (g_count < kCapacity) g_entries[g_count++] = {start, end};
}

void forget(uint64_t start) {
  std::lock_guard<SpinLock> g(g_lock);
  for (int i = g_count - 1; i >= 0; --i) {
    if (g_entries[i].start == start) {
      g_entries[i] = g_entries[--g_count];
      return;
    }
  }
}

void lock() { g_lock.lock(); }
void unlock() { g_lock.unlock(); }

void for_each(void (*fn)(uint64_t, uint64_t, void*), void* ctx) {
  std::lock_guard<SpinLock> g(g_lock);
  for (int i = 0; i < g_count; ++i) fn(g_entries[i].start, g_entries[i].end, ctx);
}

}  // namespace dune::own_mappings
