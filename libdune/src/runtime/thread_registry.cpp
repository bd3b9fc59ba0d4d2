#include "runtime/thread_registry.h"

#include <atomic>
#include <mutex>

#include "base/spin_lock.h"

namespace dune {

namespace {
// A fixed table: no allocation, readable from a signal handler without locks
// (an entry's owner is published last and cleared first).
constexpr int kCapacity = 16384;
struct Entry {
  std::atomic<uint64_t> lo{0};
  std::atomic<uint64_t> hi{0};
  std::atomic<GuestThread*> thread{nullptr};
};
Entry g_entries[kCapacity];
std::atomic<int> g_used{0};  // entries [0, g_used) may be in use
SpinLock g_lock;             // serializes writers
}  // namespace

void register_host_stack(uint64_t lo, uint64_t hi, GuestThread* t) {
  std::lock_guard<SpinLock> g(g_lock);
  int used = g_used.load(std::memory_order_relaxed);
  for (int i = 0; i <= used && i < kCapacity; ++i) {
    if (g_entries[i].thread.load(std::memory_order_relaxed)) continue;
    g_entries[i].lo.store(lo, std::memory_order_relaxed);
    g_entries[i].hi.store(hi, std::memory_order_relaxed);
    g_entries[i].thread.store(t, std::memory_order_release);
    if (i == used) g_used.store(used + 1, std::memory_order_release);
    return;
  }
}

void unregister_host_stack(GuestThread* t) {
  std::lock_guard<SpinLock> g(g_lock);
  int used = g_used.load(std::memory_order_relaxed);
  for (int i = 0; i < used; ++i)
    if (g_entries[i].thread.load(std::memory_order_relaxed) == t)
      g_entries[i].thread.store(nullptr, std::memory_order_release);
}

GuestThread* thread_on_host_stack(uint64_t sp) {
  int used = g_used.load(std::memory_order_acquire);
  for (int i = 0; i < used; ++i) {
    GuestThread* t = g_entries[i].thread.load(std::memory_order_acquire);
    if (t && sp >= g_entries[i].lo.load(std::memory_order_relaxed) &&
        sp < g_entries[i].hi.load(std::memory_order_relaxed))
      return t;
  }
  return nullptr;
}

void for_each_registered(void (*fn)(GuestThread*, void*), void* ctx) {
  std::lock_guard<SpinLock> g(g_lock);
  int used = g_used.load(std::memory_order_relaxed);
  for (int i = 0; i < used; ++i)
    if (GuestThread* t = g_entries[i].thread.load(std::memory_order_relaxed)) fn(t, ctx);
}

void keep_only_host_stack(GuestThread* keep) {
  std::lock_guard<SpinLock> g(g_lock);
  int used = g_used.load(std::memory_order_relaxed);
  for (int i = 0; i < used; ++i)
    if (g_entries[i].thread.load(std::memory_order_relaxed) != keep)
      g_entries[i].thread.store(nullptr, std::memory_order_relaxed);
}

}  // namespace dune
