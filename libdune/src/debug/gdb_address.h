// gdb_address.h - where the gdb server listens: DUNE_GDB=[HOST:]PORT or a Unix socket path.
#pragma once

#include <cstdint>

namespace dune::debug {

struct ListenAddress {
  bool is_unix = false;
  char path[108] = {};   // a Unix socket's path
  uint32_t ipv4 = 0x7f000001;  // host order; loopback unless a host is given
  uint16_t port = 0;     // 0: one the kernel picks
};

// Parses "PORT", "HOST:PORT" (a dotted IPv4 address, "localhost" or "*" for
// every interface) or a path (it has a '/'). False with *why set for anything else.
bool parse_listen_address(const char* text, ListenAddress* out, const char** why);

}  // namespace dune::debug
