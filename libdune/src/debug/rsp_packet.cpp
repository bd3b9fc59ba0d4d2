#include "debug/rsp_packet.h"

namespace dune::rsp {

namespace {

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

constexpr char kDigits[] = "0123456789abcdef";

}  // namespace

Input PacketReader::next() {
  for (;;) {
    if (buf_.empty()) return Input::kNone;
    char c = buf_[0];
    if (c == '+' || c == '-' || c == '\x03') {
      buf_.erase(0, 1);
      return c == '+' ? Input::kAck : c == '-' ? Input::kNack : Input::kInterrupt;
    }
    if (c != '$') {
      buf_.erase(0, 1);  // noise between packets
      continue;
    }
    size_t hash = buf_.find('#');
    if (hash == Text::npos || buf_.size() < hash + 3) return Input::kNone;
    uint8_t sum = 0;
    payload_.clear();
    // '}' escapes the next byte (xor 0x20); the checksum covers the bytes as sent.
    for (size_t i = 1; i < hash; ++i) {
      sum = static_cast<uint8_t>(sum + static_cast<uint8_t>(buf_[i]));
      if (buf_[i] == '}' && i + 1 < hash) {
        ++i;
        sum = static_cast<uint8_t>(sum + static_cast<uint8_t>(buf_[i]));
        payload_.push_back(static_cast<char>(buf_[i] ^ 0x20));
      } else {
        payload_.push_back(buf_[i]);
      }
    }
    int hi = hex_value(buf_[hash + 1]), lo = hex_value(buf_[hash + 2]);
    buf_.erase(0, hash + 3);
    if (hi < 0 || lo < 0 || static_cast<uint8_t>(hi * 16 + lo) != sum) return Input::kBadPacket;
    return Input::kPacket;
  }
}

Text frame(std::string_view payload) {
  Text out = text();
  out.reserve(payload.size() + 4);
  out.push_back('$');
  uint8_t sum = 0;
  auto put = [&](char c) {
    out.push_back(c);
    sum = static_cast<uint8_t>(sum + static_cast<uint8_t>(c));
  };
  for (char c : payload) {
    if (c == '$' || c == '#' || c == '}' || c == '*') {
      put('}');
      put(static_cast<char>(c ^ 0x20));
    } else {
      put(c);
    }
  }
  out.push_back('#');
  out.push_back(kDigits[sum >> 4]);
  out.push_back(kDigits[sum & 15]);
  return out;
}

void append_hex(Text& out, const void* data, size_t n) {
  const auto* p = static_cast<const uint8_t*>(data);
  for (size_t i = 0; i < n; ++i) {
    out.push_back(kDigits[p[i] >> 4]);
    out.push_back(kDigits[p[i] & 15]);
  }
}

bool parse_hex_bytes(std::string_view hex, void* out, size_t n) {
  if (hex.size() < 2 * n) return false;
  auto* p = static_cast<uint8_t*>(out);
  for (size_t i = 0; i < n; ++i) {
    int hi = hex_value(hex[2 * i]), lo = hex_value(hex[2 * i + 1]);
    if (hi < 0 || lo < 0) return false;
    p[i] = static_cast<uint8_t>(hi * 16 + lo);
  }
  return true;
}

bool parse_hex_number(std::string_view hex, uint64_t* out) {
  if (hex.empty() || hex.size() > 16) return false;
  uint64_t v = 0;
  for (char c : hex) {
    int d = hex_value(c);
    if (d < 0) return false;
    v = v * 16 + static_cast<uint64_t>(d);
  }
  *out = v;
  return true;
}

Text hex_number(uint64_t v) {
  char buf[17];
  int i = 16;
  buf[i] = 0;
  do {
    buf[--i] = kDigits[v & 15];
    v >>= 4;
  } while (v);
  return Text(buf + i, host_arena());
}

}  // namespace dune::rsp
