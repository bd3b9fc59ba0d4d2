// budget.h - how many repetitions a row gets: a fixed count, or all that fit in a time.
#pragma once

#include <time.h>

#include <cstdint>
#include <optional>

namespace dunestat {

// The vDSO's CLOCK_MONOTONIC, which costs no VM exit in Dune mode.
inline double monotonic_seconds() {
  timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return static_cast<double>(t.tv_sec) + static_cast<double>(t.tv_nsec) * 1e-9;
}

struct Budget {
  std::optional<uint64_t> iterations;  // exactly this many, if set
  double seconds = 0.5;                // else repeat until this much time has passed
};

// Asked before each repetition whether another one is due.
class Repetitions {
 public:
  explicit Repetitions(const Budget& b) : budget_(b), start_(monotonic_seconds()) {}

  bool more(uint64_t done) const {
    if (budget_.iterations) return done < *budget_.iterations;
    return done == 0 || monotonic_seconds() - start_ < budget_.seconds;
  }
  // How many are still due at most (time budgets: no limit).
  uint64_t left(uint64_t done) const {
    if (budget_.iterations) return done < *budget_.iterations ? *budget_.iterations - done : 0;
    return UINT64_MAX;
  }

 private:
  Budget budget_;
  double start_;
};

}  // namespace dunestat
