#include "format_style.h"

#include <ctime>

namespace dunetrace {

namespace {

// The TSC's rate (guest and host TSC are one clock), measured against
// CLOCK_MONOTONIC over a short sleep.
double measure_tsc_hz() {
  timespec a{}, b{};
  clock_gettime(CLOCK_MONOTONIC, &a);
  uint64_t t0 = __builtin_ia32_rdtsc();
  timespec nap{0, 20 * 1000 * 1000};
  nanosleep(&nap, nullptr);
  clock_gettime(CLOCK_MONOTONIC, &b);
  uint64_t t1 = __builtin_ia32_rdtsc();
  double secs = static_cast<double>(b.tv_sec - a.tv_sec) + static_cast<double>(b.tv_nsec - a.tv_nsec) / 1e9;
  return secs > 0 ? static_cast<double>(t1 - t0) / secs : 0;
}

}  // namespace

FormatStyle format_style(const Options& o) {
  FormatStyle s;
  s.json = o.json;
  s.follow = o.follow;
  s.timing = o.timing;
  s.string_limit = o.string_limit;
  s.fd_paths = o.fd_paths;
  s.timestamps = o.timestamps;
  s.relative = o.relative_timestamps;
  if (o.timing || o.timestamps || o.relative_timestamps) {
    s.tsc_hz = measure_tsc_hz();
    timespec now{};
    s.anchor_tsc = __builtin_ia32_rdtsc();
    clock_gettime(CLOCK_REALTIME, &now);
    s.anchor_realtime_ns = static_cast<int64_t>(now.tv_sec) * 1000000000 + now.tv_nsec;
  }
  return s;
}

}  // namespace dunetrace
