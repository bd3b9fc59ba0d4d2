// parse_size.h - "8G", "512MiB", "1048576": byte counts from the environment.
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>

namespace dune {

// A positive count with an optional binary suffix K, M, G or T (optionally
// followed by "iB" or "B"). nullopt for anything else, zero, or overflow.
inline std::optional<uint64_t> parse_byte_size(std::string_view s) {
  uint64_t n = 0;
  size_t i = 0;
  for (; i < s.size() && s[i] >= '0' && s[i] <= '9'; ++i) {
    uint64_t d = static_cast<uint64_t>(s[i] - '0');
    if (n > (UINT64_MAX - d) / 10) return std::nullopt;
    n = n * 10 + d;
  }
  if (i == 0 || n == 0) return std::nullopt;
  std::string_view rest = s.substr(i);
  unsigned shift = 0;
  if (!rest.empty()) {
    switch (rest[0]) {
      case 'k': case 'K': shift = 10; break;
      case 'm': case 'M': shift = 20; break;
      case 'g': case 'G': shift = 30; break;
      case 't': case 'T': shift = 40; break;
      default: return std::nullopt;
    }
    rest.remove_prefix(1);
    if (!rest.empty() && rest != "B" && rest != "iB") return std::nullopt;
  }
  if (shift && n > (UINT64_MAX >> shift)) return std::nullopt;
  return n << shift;
}

}  // namespace dune
