// format_text.cpp - number and phrase helpers shared by the formats.
#include <fmt/format.h>

#include <cmath>

#include "formats.h"

namespace dunestat {

std::string grouped(double v) {
  long long n = std::llround(v);
  std::string digits = std::to_string(n < 0 ? -n : n);
  std::string out;
  for (size_t i = 0; i < digits.size(); ++i) {
    if (i && (digits.size() - i) % 3 == 0) out += ',';
    out += digits[i];
  }
  return n < 0 ? "-" + out : out;
}

std::string ratio_text(double r) { return r < 10 ? fmt::format("{:.2f}", r) : fmt::format("{:.1f}", r); }

std::string repetitions_text(const Report& r) {
  if (r.iterations) return fmt::format("{} per row and mode", *r.iterations);
  return fmt::format("as many as fit in {} s per row and mode", r.seconds);
}

}  // namespace dunestat
