// trace_protocol.h - what the shim sends dunetrace: event records and the -c summary table.
//
// dunetrace listens on a SOCK_SEQPACKET socket; every traced process connects
// to it (forked children share their parent's connection), and each event is
// one message: a TraceRecord. A record that needs the process stopped while
// dunetrace looks at it (to unwind its stack, or to read its mappings before
// it dies) carries one end of a fresh socket pair (SCM_RIGHTS): the thread
// waits until dunetrace writes a byte to it or closes it. The last record of
// every image (exit_group, a death by a signal, an exec) is one: a process's
// records all travel on one connection, in order, so dunetrace has handled
// every earlier one, with the image's mappings still there, when it answers.
//
// Records that need no wait go through a shared-memory ring instead, one per
// connection (trace_ring.h), which dunetrace empties before it reads the
// connection's socket.
//
// With -c nothing is sent per event: every process adds its events to a
// SummaryTable in a file dunetrace created, mapped shared (atomics only).
#pragma once

#include <dune/dune.h>
#include <dune/trace.h>

#include <atomic>
#include <cstdint>

namespace dune::trace_wire {

constexpr uint32_t kRecordMagic = 0x31525444;  // "DTR1"
constexpr uint16_t kVersion = 4;  // 2: DUNE_EV_EXEC records; 3: captured syscall memory; 4: the ring

enum RecordFlags : uint16_t {
  kHasRegs = 1,   // regs holds the guest registers at the event
  kWantsAck = 2,  // the thread waits for dunetrace (an fd came with the record)
  // No event (kind 0), only these:
  kRingHello = 4,  // the fd that came with it is the connection's ring (trace_ring.h)
  kRingFull = 8,   // with kWantsAck: the ring is full; answered once it is emptied
};

struct TraceRecord {
  uint32_t magic = kRecordMagic;
  uint16_t version = kVersion;
  uint16_t flags = 0;
  // A syscall's (or exec's) record is followed in its message by this many
  // bytes of blobs (syscall_capture.h): the memory its line shows.
  uint32_t capture_len = 0;
  uint32_t reserved = 0;
  dune_event event;  // its regs pointer means nothing to the receiver
  dune_tf regs;
};

// -y: a descriptor's file travels as a blob with this sub and the argument's
// index as arg (kResultArg: the descriptor the call returned).
constexpr uint8_t kFdPathSub = 0xff;
constexpr uint8_t kResultArg = 6;

// Syscall numbers the summary and filters cover (x86-64 uses < 500).
constexpr int kMaxSyscall = 1024;
constexpr int kMaxExitKind = 16;
constexpr int kMaxSignal = 64;

// One row of the summary: cycles are the host-side cycles of each event.
struct SummaryCell {
  std::atomic<uint64_t> count{0};
  std::atomic<uint64_t> errors{0};
  std::atomic<uint64_t> cycles{0};
  std::atomic<uint64_t> min{~0ull};
  std::atomic<uint64_t> max{0};

  void add(uint64_t c, bool error) {
    count.fetch_add(1, std::memory_order_relaxed);
    cycles.fetch_add(c, std::memory_order_relaxed);
    if (error) errors.fetch_add(1, std::memory_order_relaxed);
    uint64_t m = min.load(std::memory_order_relaxed);
    while (c < m && !min.compare_exchange_weak(m, c, std::memory_order_relaxed)) {
    }
    m = max.load(std::memory_order_relaxed);
    while (c > m && !max.compare_exchange_weak(m, c, std::memory_order_relaxed)) {
    }
  }
};

constexpr uint32_t kSummaryMagic = 0x4d555344;  // "DSUM"

// Shared by every traced process of a run (std::atomic of 64 bits is lock-free
// and so works between processes).
struct SummaryTable {
  uint32_t magic = kSummaryMagic;
  uint32_t version = kVersion;
  SummaryCell exits[kMaxExitKind];  // by dune_exit_kind
  SummaryCell syscalls[kMaxSyscall];
  std::atomic<uint64_t> faults[32];  // guest exceptions by vector
  std::atomic<uint64_t> host_faults{0};
  std::atomic<uint64_t> bad_stacks{0};
  std::atomic<uint64_t> signals[kMaxSignal + 1];
  std::atomic<uint64_t> processes{0};  // processes (images) that started
  std::atomic<uint64_t> threads{0};    // threads that started, processes' first ones excluded
};
static_assert(std::atomic<uint64_t>::is_always_lock_free);

}  // namespace dune::trace_wire
