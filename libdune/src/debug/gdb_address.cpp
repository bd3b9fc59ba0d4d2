#include "debug/gdb_address.h"

#include <cstring>

namespace dune::debug {

namespace {

bool parse_number(const char* s, size_t n, uint32_t max, uint32_t* out) {
  if (n == 0 || n > 10) return false;
  uint64_t v = 0;
  for (size_t i = 0; i < n; ++i) {
    if (s[i] < '0' || s[i] > '9') return false;
    v = v * 10 + static_cast<uint64_t>(s[i] - '0');
  }
  if (v > max) return false;
  *out = static_cast<uint32_t>(v);
  return true;
}

bool parse_ipv4(const char* s, size_t n, uint32_t* out) {
  if (n == 9 && !std::strncmp(s, "localhost", 9)) {
    *out = 0x7f000001;
    return true;
  }
  if (n == 1 && s[0] == '*') {
    *out = 0;
    return true;
  }
  uint32_t addr = 0;
  size_t start = 0;
  for (int part = 0; part < 4; ++part) {
    size_t end = start;
    while (end < n && s[end] != '.') ++end;
    uint32_t octet;
    if (!parse_number(s + start, end - start, 255, &octet)) return false;
    addr = (addr << 8) | octet;
    if (part < 3 && end == n) return false;
    start = end + 1;
  }
  if (start <= n) return false;  // more than four parts
  *out = addr;
  return true;
}

}  // namespace

bool parse_listen_address(const char* text, ListenAddress* out, const char** why) {
  *out = ListenAddress{};
  if (!text || !*text) {
    *why = "empty";
    return false;
  }
  size_t len = std::strlen(text);
  if (std::strchr(text, '/')) {
    if (len >= sizeof(out->path)) {
      *why = "the socket path is too long";
      return false;
    }
    out->is_unix = true;
    std::memcpy(out->path, text, len + 1);
    return true;
  }
  const char* colon = std::strrchr(text, ':');
  const char* port = colon ? colon + 1 : text;
  if (colon && !parse_ipv4(text, static_cast<size_t>(colon - text), &out->ipv4)) {
    *why = "the host is not an IPv4 address, localhost or *";
    return false;
  }
  uint32_t p;
  if (!parse_number(port, std::strlen(port), 65535, &p)) {
    *why = "the port is not a number from 0 to 65535";
    return false;
  }
  out->port = static_cast<uint16_t>(p);
  return true;
}

}  // namespace dune::debug
