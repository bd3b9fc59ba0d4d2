// rsp_packet.h - the GDB Remote Serial Protocol's framing: $payload#checksum, acks, escapes, hex.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "base/host_arena.h"

namespace dune::rsp {

// Text the server builds: from the library's arena, never malloc (a parked
// thread may hold malloc's lock).
using Text = std::pmr::string;
inline Text text() { return Text(host_arena()); }

// What the byte stream from gdb held next.
enum class Input : uint8_t {
  kNone,       // nothing complete yet: feed more bytes
  kPacket,     // a packet with a good checksum (payload() holds it, unescaped)
  kBadPacket,  // a packet whose checksum did not match: answer '-'
  kAck,        // '+'
  kNack,       // '-': send the last packet again
  kInterrupt,  // 0x03 outside a packet: gdb's Ctrl-C
};

// Splits gdb's byte stream into packets, acks and interrupts.
class PacketReader {
 public:
  void feed(const char* data, size_t n) { buf_.append(data, n); }
  // The next thing in the stream; garbage between packets is skipped.
  Input next();
  const Text& payload() const { return payload_; }
  // Bytes waiting that next() has not consumed (a packet cut short).
  size_t buffered() const { return buf_.size(); }

 private:
  Text buf_{host_arena()};
  Text payload_{host_arena()};
};

// The framed packet for payload: "$" + escaped payload + "#" + two hex digits.
Text frame(std::string_view payload);

// Hex of bytes, two lowercase digits each, appended to out.
void append_hex(Text& out, const void* data, size_t n);
// Parses 2*n hex digits into out; false on a bad digit or a short string.
bool parse_hex_bytes(std::string_view hex, void* out, size_t n);
// A hex number (no prefix, up to 16 digits); false if empty or not hex.
bool parse_hex_number(std::string_view hex, uint64_t* out);
Text hex_number(uint64_t v);

}  // namespace dune::rsp
