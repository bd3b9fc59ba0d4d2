#include "base/host_arena.h"

#include <sys/mman.h>

#include <cstddef>
#include <cstdint>
#include <mutex>
#include <new>

#include "base/log.h"
#include "base/own_mappings.h"

#include "base/raw_syscall.h"
#include "base/spin_lock.h"

namespace dune {
namespace {

constexpr size_t kMinClass = 16;
constexpr size_t kMaxClass = 2048;
constexpr size_t kClasses = 8;  // 16, 32, ..., 2048
constexpr size_t kChunk = 64 * 1024;
constexpr size_t kPage = 4096;

// The library cannot go on without memory for its own bookkeeping.
[[noreturn]] void out_of_memory() {
  log::error("fatal: out of memory for the library's own data");
  __builtin_trap();
}

struct FreeBlock {
  FreeBlock* next;
};

class ArenaResource final : public std::pmr::memory_resource {
 private:
  static size_t class_of(size_t bytes) {
    size_t c = 0;
    size_t size = kMinClass;
    while (size < bytes) {
      size <<= 1;
      ++c;
    }
    return c;
  }

  static void* map(size_t len) {
    long r = sys::mmap(nullptr, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (sys::is_error(r)) return nullptr;
    own_mappings::add(static_cast<uint64_t>(r), static_cast<uint64_t>(r) + len);
    return reinterpret_cast<void*>(r);
  }

  void* do_allocate(size_t bytes, size_t alignment) override {
    if (bytes == 0) bytes = 1;
    if (bytes > kMaxClass || alignment > kMinClass) {
      size_t len = (bytes + kPage - 1) & ~(kPage - 1);
      void* p = map(len);
      if (!p) out_of_memory();
      return p;
    }
    size_t c = class_of(bytes);
    size_t size = kMinClass << c;
    std::lock_guard<SpinLock> g(lock_);
    if (!free_[c]) {
      if (chunk_left_ < size) {
        void* chunk = map(kChunk);
        if (!chunk) out_of_memory();
        chunk_next_ = static_cast<char*>(chunk);
        chunk_left_ = kChunk;
      }
      void* p = chunk_next_;
      chunk_next_ += size;
      chunk_left_ -= size;
      return p;
    }
    FreeBlock* b = free_[c];
    free_[c] = b->next;
    return b;
  }

  void do_deallocate(void* p, size_t bytes, size_t alignment) override {
    if (bytes == 0) bytes = 1;
    if (bytes > kMaxClass || alignment > kMinClass) {
      own_mappings::forget(reinterpret_cast<uint64_t>(p));
      sys::munmap(p, (bytes + kPage - 1) & ~(kPage - 1));
      return;
    }
    size_t c = class_of(bytes);
    std::lock_guard<SpinLock> g(lock_);
    auto* b = static_cast<FreeBlock*>(p);
    b->next = free_[c];
    free_[c] = b;
  }

  bool do_is_equal(const std::pmr::memory_resource& o) const noexcept override {
    return this == &o;
  }

 public:
  SpinLock lock_;

 private:
  FreeBlock* free_[kClasses] = {};
  char* chunk_next_ = nullptr;
  size_t chunk_left_ = 0;
};

}  // namespace

ArenaResource* arena() {
  // Constructed on first use and never destroyed: threads may still run at exit.
  alignas(ArenaResource) static unsigned char storage[sizeof(ArenaResource)];
  static ArenaResource* arena = new (storage) ArenaResource();
  return arena;
}

std::pmr::memory_resource* host_arena() { return arena(); }
void host_arena_lock() { arena()->lock_.lock(); }
void host_arena_unlock() { arena()->lock_.unlock(); }

}  // namespace dune
