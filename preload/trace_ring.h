// trace_ring.h - the shared-memory ring a traced process writes its plain
// records into, and dunetrace reads them from.
//
// A record sent on the socket wakes dunetrace; with one CPU that is two
// context switches per traced syscall, more than the syscall. A record put in
// the ring wakes nobody: dunetrace collects the ring every few hundred
// microseconds (and at once before anything that comes on the socket of the
// same connection, so the order of a thread's records holds). Records that
// make the thread wait (stacks, image ends, faults, signals) and records too
// large for a slot still go on the socket.
//
// The ring is made by the shim, one per connection (forked children share it
// with their parent), and passed to dunetrace with the connection's first
// message. Slots are fixed-size and sequence-numbered (a bounded
// multi-producer queue): a writer claims the slot at head with a CAS, fills
// it, and publishes it by its sequence number; the reader takes slots in
// order. Everything here is plain atomics on shared memory: no allocation, no
// syscall, usable on the host side of a guest thread and in a signal handler.
//
// The traced program can write this memory too (it is in its address space
// outside Dune mode): the reader checks every length; a scribbling program
// garbles only its own trace.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <new>

namespace dune::trace_wire {

constexpr uint32_t kRingMagic = 0x474e5244;  // "DRNG"
constexpr uint32_t kRingSlots = 1024;        // a power of two
constexpr uint32_t kRingSlotSize = 1024;     // a record (288 bytes) and ~700 bytes of captures

struct RingSlot {
  std::atomic<uint64_t> seq;  // pos: free for the writer of pos; pos+1: holds pos's record
  uint32_t len;
  uint32_t pad;
  uint8_t data[kRingSlotSize - 16];
};
static_assert(sizeof(RingSlot) == kRingSlotSize);

struct RingHeader {
  uint32_t magic;
  uint32_t version;
  uint32_t slots;
  uint32_t slot_size;
  alignas(64) std::atomic<uint64_t> head;  // the next position a writer claims
  alignas(64) std::atomic<uint64_t> tail;  // the next position the reader takes (for the writers' eyes only)
};

// The header has a page of its own; the slots follow.
constexpr size_t kRingHeaderBytes = 4096;
constexpr size_t kRingBytes = kRingHeaderBytes + size_t{kRingSlots} * kRingSlotSize;
static_assert(sizeof(RingHeader) <= kRingHeaderBytes);
static_assert((kRingSlots & (kRingSlots - 1)) == 0);
static_assert(std::atomic<uint64_t>::is_always_lock_free);

constexpr size_t kRingPayload = sizeof(RingSlot::data);

inline RingSlot* ring_slots(void* base) {
  return reinterpret_cast<RingSlot*>(static_cast<uint8_t*>(base) + kRingHeaderBytes);
}

// Makes kRingBytes of zeroed memory at base an empty ring.
inline void ring_init(void* base, uint32_t version) {
  auto* h = new (base) RingHeader{};
  h->magic = kRingMagic;
  h->version = version;
  h->slots = kRingSlots;
  h->slot_size = kRingSlotSize;
  RingSlot* s = ring_slots(base);
  for (uint32_t i = 0; i < kRingSlots; ++i) s[i].seq.store(i, std::memory_order_relaxed);
  std::atomic_thread_fence(std::memory_order_release);
}

inline bool ring_valid(const void* base, uint32_t version) {
  auto* h = static_cast<const RingHeader*>(base);
  return h->magic == kRingMagic && h->version == version && h->slots == kRingSlots && h->slot_size == kRingSlotSize;
}

enum class RingPut { kDone, kFull, kTooBig };

// Writes len bytes as one record.
inline RingPut ring_put(void* base, const void* data, size_t len) {
  if (len > kRingPayload) return RingPut::kTooBig;
  auto* h = static_cast<RingHeader*>(base);
  RingSlot* slots = ring_slots(base);
  uint64_t pos = h->head.load(std::memory_order_relaxed);
  RingSlot* s;
  for (;;) {
    s = &slots[pos & (kRingSlots - 1)];
    uint64_t seq = s->seq.load(std::memory_order_acquire);
    auto dif = static_cast<int64_t>(seq - pos);
    if (dif == 0) {
      if (h->head.compare_exchange_weak(pos, pos + 1, std::memory_order_relaxed)) break;
    } else if (dif < 0) {
      return RingPut::kFull;  // the slot still holds the record of pos - kRingSlots
    } else {
      pos = h->head.load(std::memory_order_relaxed);  // another writer took it
    }
  }
  s->len = static_cast<uint32_t>(len);
  std::memcpy(s->data, data, len);
  s->seq.store(pos + 1, std::memory_order_release);
  return RingPut::kDone;
}

enum class RingTake { kRecord, kEmpty, kBusy };

// What the slot at tail holds: a record, nothing yet, or a claim not yet
// published (kBusy).
inline RingTake ring_peek(void* base, uint64_t tail) {
  auto* h = static_cast<RingHeader*>(base);
  RingSlot* s = &ring_slots(base)[tail & (kRingSlots - 1)];
  if (s->seq.load(std::memory_order_acquire) == tail + 1) return RingTake::kRecord;
  auto ahead = static_cast<int64_t>(h->head.load(std::memory_order_relaxed) - tail);
  return ahead > 0 ? RingTake::kBusy : RingTake::kEmpty;
}

// Takes the record at tail (the reader's own count) into out (kRingPayload
// bytes), or says why there is none.
inline RingTake ring_take(void* base, uint64_t& tail, void* out, uint32_t* len) {
  RingTake t = ring_peek(base, tail);
  if (t != RingTake::kRecord) return t;
  RingSlot* s = &ring_slots(base)[tail & (kRingSlots - 1)];
  uint32_t n = s->len;
  if (n > kRingPayload) n = 0;  // scribbled on: an empty record, which the reader drops
  std::memcpy(out, s->data, n);
  *len = n;
  s->seq.store(tail + kRingSlots, std::memory_order_release);
  ++tail;
  static_cast<RingHeader*>(base)->tail.store(tail, std::memory_order_relaxed);
  return RingTake::kRecord;
}

// Gives up the slot at tail without a record: the reader's way past a slot
// whose writer died while filling it. Only once every writer is gone (the
// connection closed): a writer that is merely slow would publish into a slot
// given away.
inline void ring_skip(void* base, uint64_t& tail) {
  RingSlot* s = &ring_slots(base)[tail & (kRingSlots - 1)];
  s->seq.store(tail + kRingSlots, std::memory_order_release);
  ++tail;
  static_cast<RingHeader*>(base)->tail.store(tail, std::memory_order_relaxed);
}

}  // namespace dune::trace_wire
