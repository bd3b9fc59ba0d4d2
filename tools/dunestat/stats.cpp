#include "stats.h"

#include <algorithm>
#include <cmath>

namespace dunestat {

uint64_t quantile_of_sorted(std::span<const uint64_t> sorted, double q) {
  // Nearest rank: the smallest sample with at least q of all samples at or below it.
  double rank = std::ceil(q * static_cast<double>(sorted.size()));
  size_t i = rank < 1 ? 0 : static_cast<size_t>(rank) - 1;
  return sorted[std::min(i, sorted.size() - 1)];
}

Summary minus_overhead(const Summary& s, double cycles) {
  auto less = [cycles](double v) { return v > cycles ? v - cycles : 0.0; };
  return {s.reps, less(s.min), less(s.median), less(s.p90), less(s.max)};
}

Summary per_part(const Summary& s, unsigned by) {
  double d = by ? by : 1;
  return {s.reps * (by ? by : 1), s.min / d, s.median / d, s.p90 / d, s.max / d};
}

Sampler::Sampler(size_t capacity) : capacity_(capacity ? capacity : 1) { kept_.reserve(capacity_); }

uint64_t Sampler::next_random() {
  // xorshift64: cheap, and a fixed seed keeps runs reproducible.
  rng_ ^= rng_ << 13;
  rng_ ^= rng_ >> 7;
  rng_ ^= rng_ << 17;
  return rng_;
}

void Sampler::add(uint64_t cycles) {
  ++count_;
  min_ = std::min(min_, cycles);
  max_ = std::max(max_, cycles);
  if (kept_.size() < capacity_) {
    kept_.push_back(cycles);
    return;
  }
  // Reservoir sampling: the n-th sample replaces a kept one with probability capacity/n.
  uint64_t slot = next_random() % count_;
  if (slot < capacity_) kept_[slot] = cycles;
}

Summary Sampler::summary() const {
  if (count_ == 0) return {};
  std::vector<uint64_t> sorted = kept_;
  std::sort(sorted.begin(), sorted.end());
  return {count_, static_cast<double>(min_), static_cast<double>(quantile_of_sorted(sorted, 0.5)),
          static_cast<double>(quantile_of_sorted(sorted, 0.9)), static_cast<double>(max_)};
}

}  // namespace dunestat
