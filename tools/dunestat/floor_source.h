// floor_source.h - where the VM exit floor's round trips are measured.
//
// dune_bench_exit_floor must run outside Dune mode. The native worker calls it
// itself; the Dune worker forks a native helper before it enters Dune mode and
// asks it for batches, so that the floor can be measured between its own
// batches of system calls, at the same moments (exit costs drift on a busy host).
#pragma once

#include <sys/types.h>

#include <cstddef>
#include <cstdint>
#include <string>

namespace dunestat {

class FloorSource {
 public:
  // Measures in the calling process.
  static FloorSource here();
  // Forks the helper (call it before dune_init_and_enter).
  static FloorSource helper();

  FloorSource(FloorSource&& o) noexcept;
  FloorSource& operator=(FloorSource&&) = delete;
  FloorSource(const FloorSource&) = delete;
  ~FloorSource();  // stops and reaps the helper

  // Fills samples[0..n) with the cycles of n round trips: 0, or -errno with
  // what libdune said about it in *said.
  int measure(uint64_t* samples, size_t n, std::string* said);

 private:
  FloorSource() = default;

  bool here_ = true;  // else through the helper
  pid_t pid_ = -1;    // the helper
  int request_ = -1;  // to the helper: a count (0: stop)
  int reply_ = -1;    // from it: status, what was said, samples
};

}  // namespace dunestat
