// xlat.h - numbers as strace names them: one constant (xlat) or a set of bits (flags).
#pragma once

#include <cstdint>
#include <string>

namespace dunetrace::decode {

struct Named {
  uint64_t value;
  const char* name;
};

template <size_t N>
struct Table {
  const Named (&items)[N];
};

// The name of v in table, else v in the style given ("%#x" hex or decimal),
// with the unknown value commented as strace does: "0x40 /* SOCK_??? */".
std::string xlat(uint64_t v, const Named* table, size_t n, const char* unknown_prefix = nullptr, bool hex = true);

// "A|B|0x40": the names of the bits set in v (a table entry may span several
// bits, or be 0 for the value 0), the rest in hex; "0" for 0 unless a name is 0.
std::string flags(uint64_t v, const Named* table, size_t n, const char* zero = "0");

template <size_t N>
std::string xlat(uint64_t v, const Named (&t)[N], const char* unknown_prefix = nullptr, bool hex = true) {
  return xlat(v, t, N, unknown_prefix, hex);
}
template <size_t N>
std::string flags(uint64_t v, const Named (&t)[N], const char* zero = "0") {
  return flags(v, t, N, zero);
}

// "0755", "0" (octal as strace prints modes).
std::string octal(uint64_t v);
// C's "%#x": "0x1f", and "0" for 0 (fmt's {:#x} gives "0x0").
std::string c_hex(uint64_t v);
// "0x7f..." or "NULL".
std::string address(uint64_t v);
// "SIGINT", "SIGRTMIN", "SIGRT_3", or the number.
std::string signal_text(int signo);
// A sigset of 64 bits: "[INT TERM]", the complement as "~[...]" when shorter.
std::string sigset_text(uint64_t set);

}  // namespace dunetrace::decode
