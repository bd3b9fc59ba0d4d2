// stats.h - repetitions of one operation reduced to min, median, p90 and max.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

namespace dunestat {

// Figures of one row in one mode, in the row's unit.
struct Summary {
  uint64_t reps = 0;  // how many repetitions were measured
  double min = 0, median = 0, p90 = 0, max = 0;
};

// The nearest-rank quantile q (0 < q <= 1) of sorted, non-empty samples.
uint64_t quantile_of_sorted(std::span<const uint64_t> sorted, double q);

// Every figure less `cycles`, never below 0: a figure smaller than the TSC
// overhead reads 0 instead of wrapping around (the original Dune's User fault
// figure was such an unsigned underflow).
Summary minus_overhead(const Summary& s, double cycles);
// Every figure divided by `by` (per fault from per pass); reps multiplied.
Summary per_part(const Summary& s, unsigned by);

// Collects samples without allocating once constructed. min and max are
// exact; the quantiles come from a uniform random subset (a reservoir) of at
// most `capacity` samples once there are more than that.
class Sampler {
 public:
  static constexpr size_t kDefaultCapacity = 1 << 17;
  explicit Sampler(size_t capacity = kDefaultCapacity);

  void add(uint64_t cycles);
  uint64_t count() const { return count_; }
  // Summary of what was added; reps 0 if nothing was.
  Summary summary() const;

 private:
  uint64_t next_random();

  std::vector<uint64_t> kept_;
  size_t capacity_;
  uint64_t count_ = 0;
  uint64_t min_ = UINT64_MAX, max_ = 0;
  uint64_t rng_ = 0x9e3779b97f4a7c15ull;
};

}  // namespace dunestat
