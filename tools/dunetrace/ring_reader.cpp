#include "ring_reader.h"

#include <sys/mman.h>

#include <ctime>

namespace dunetrace {

using dune::trace_wire::kRingBytes;
using dune::trace_wire::RingTake;
using dune::trace_wire::TraceRecord;

bool record_intact(const TraceRecord& rec, size_t n) {
  return n >= sizeof rec && rec.magic == dune::trace_wire::kRecordMagic && rec.version == dune::trace_wire::kVersion &&
         n == sizeof rec + rec.capture_len;
}

std::unique_ptr<RingReader> RingReader::attach(int fd) {
  void* m = mmap(nullptr, kRingBytes, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
  if (m == MAP_FAILED) return nullptr;
  if (!dune::trace_wire::ring_valid(m, dune::trace_wire::kVersion)) {
    munmap(m, kRingBytes);
    return nullptr;
  }
  return std::unique_ptr<RingReader>(new RingReader(m));
}

RingReader::~RingReader() { munmap(base_, kRingBytes); }

size_t RingReader::drain(const RecordFn& fn, long wait_ns) {
  size_t taken = 0;
  long waited = 0;
  for (;;) {
    uint32_t len = 0;
    RingTake t = dune::trace_wire::ring_take(base_, tail_, record_, &len);
    if (t == RingTake::kEmpty) break;
    if (t == RingTake::kBusy) {
      // A writer between its claim and its publication: a few hundred
      // instructions, unless it was preempted (on one CPU, it runs when we sleep).
      if (waited >= wait_ns) break;
      timespec nap{0, 20 * 1000};
      nanosleep(&nap, nullptr);
      waited += nap.tv_nsec;
      continue;
    }
    const auto& rec = *reinterpret_cast<const TraceRecord*>(record_);
    if (!record_intact(rec, len)) continue;  // not ours: dropped
    ++taken;
    fn(rec, std::string_view(reinterpret_cast<const char*>(record_) + sizeof rec, rec.capture_len));
  }
  return taken;
}

size_t RingReader::drain_final(const RecordFn& fn) {
  size_t taken = 0;
  // Stopped at a slot claimed by a writer that died: past it, and on (a
  // ring's worth at most: a scribbled head must not keep us here).
  for (uint32_t skipped = 0; skipped < dune::trace_wire::kRingSlots; ++skipped) {
    taken += drain(fn, 0);
    if (dune::trace_wire::ring_peek(base_, tail_) != RingTake::kBusy) break;
    dune::trace_wire::ring_skip(base_, tail_);
  }
  return taken;
}

}  // namespace dunetrace
