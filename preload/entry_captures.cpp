#include "entry_captures.h"

#include <sys/syscall.h>

#include <atomic>
#include <cerrno>
#include <cstring>

#include "base/raw_syscall.h"

namespace dune::entry_captures {

namespace {

// Select's three sets and its timeout, or one length: a few hundred bytes.
constexpr size_t kRoom = 512;
constexpr int kSlots = 64;

struct Slot {
  std::atomic<int> tid{0};  // the thread whose call it holds; 0: free
  long nr = -1;
  uint64_t args[6] = {};
  size_t len = 0;
  uint8_t blobs[kRoom] = {};
};
constinit Slot g_slots[kSlots];

// The slot for tid, claimed; nullptr if a live thread holds it.
Slot* claim(int pid, int tid) {
  Slot& s = g_slots[static_cast<unsigned>(tid) % kSlots];
  int holder = s.tid.load(std::memory_order_acquire);
  if (holder == tid) return &s;
  // A thread that died during its call leaves its slot taken: reclaimed.
  if (holder != 0 && sys::syscall6(SYS_tgkill, pid, holder, 0) != -ESRCH) return nullptr;
  return s.tid.compare_exchange_strong(holder, tid, std::memory_order_acq_rel) ? &s : nullptr;
}

}  // namespace

void keep(int pid, int tid, long nr, const uint64_t (&args)[6], trace_wire::CaptureReader read) {
  Slot* s = claim(pid, tid);
  if (!s) return;
  trace_wire::CaptureItem items[trace_wire::kMaxCaptureItems];
  int n = trace_wire::entry_plan(nr, args, items);
  s->nr = nr;
  std::memcpy(s->args, args, sizeof s->args);
  s->len = trace_wire::run_entry_capture(items, n, args, read, s->blobs, sizeof s->blobs);
}

size_t take(int tid, long nr, const uint64_t (&args)[6], uint8_t* area, size_t room) {
  Slot& s = g_slots[static_cast<unsigned>(tid) % kSlots];
  if (s.tid.load(std::memory_order_acquire) != tid) return 0;
  size_t n = 0;
  if (s.nr == nr && std::memcmp(s.args, args, sizeof s.args) == 0 && s.len <= room) {
    std::memcpy(area, s.blobs, s.len);
    n = s.len;
  }
  s.nr = -1;
  s.tid.store(0, std::memory_order_release);
  return n;
}

}  // namespace dune::entry_captures
