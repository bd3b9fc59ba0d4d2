// ring_reader.h - dunetrace's side of a connection's shared-memory ring
// (preload/trace_ring.h): maps it and takes its records in order.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string_view>

#include "trace_protocol.h"
#include "trace_ring.h"

namespace dunetrace {

class RingReader {
 public:
  using RecordFn = std::function<void(const dune::trace_wire::TraceRecord&, std::string_view captures)>;

  // Maps the ring behind fd (which the caller keeps); nullptr if it is not one.
  static std::unique_ptr<RingReader> attach(int fd);
  ~RingReader();
  RingReader(const RingReader&) = delete;
  RingReader& operator=(const RingReader&) = delete;

  // Hands every published record to fn, in order; returns how many. A slot a
  // writer is still filling stops the walk, after waiting up to wait_ns for it.
  size_t drain(const RecordFn& fn, long wait_ns);
  // Once every writer is gone: slots claimed and never published are passed over.
  size_t drain_final(const RecordFn& fn);

 private:
  explicit RingReader(void* base) : base_(base) {}
  void* base_;
  uint64_t tail_ = 0;
  alignas(dune::trace_wire::TraceRecord) uint8_t record_[dune::trace_wire::kRingPayload];
};

// Whether n bytes received (from the socket or a ring) are one whole record of ours.
bool record_intact(const dune::trace_wire::TraceRecord& rec, size_t n);

}  // namespace dunetrace
