#include "trace_config.h"

#include <cstring>

namespace dune {

namespace {

constexpr char kHex[] = "0123456789abcdef";

void put_hex(std::string& s, uint64_t v) {
  char buf[17];
  int n = 0;
  do {
    buf[n++] = kHex[v & 15];
    v >>= 4;
  } while (v);
  while (n) s += buf[--n];
}

bool parse_hex(std::string_view t, uint64_t* out) {
  if (t.empty() || t.size() > 16) return false;
  uint64_t v = 0;
  for (char c : t) {
    int d = c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
    if (d < 0) return false;
    v = v << 4 | static_cast<uint64_t>(d);
  }
  *out = v;
  return true;
}

bool parse_int(std::string_view t, int* out) {
  if (t.empty() || t.size() > 9) return false;
  int v = 0;
  for (char c : t) {
    if (c < '0' || c > '9') return false;
    v = v * 10 + (c - '0');
  }
  *out = v;
  return true;
}

}  // namespace

bool TraceConfig::syscall_passes(long nr) const {
  if (nr < 0 || nr >= trace_wire::kMaxSyscall) return other_syscalls;
  return (syscalls[nr / 64] >> (nr % 64)) & 1;
}

void TraceConfig::set_syscall(long nr, bool on) {
  if (nr < 0 || nr >= trace_wire::kMaxSyscall) return;
  if (on)
    syscalls[nr / 64] |= 1ull << (nr % 64);
  else
    syscalls[nr / 64] &= ~(1ull << (nr % 64));
}

std::string encode_trace_config(const TraceConfig& c) {
  std::string s = "kinds=";
  put_hex(s, c.kinds);
  s += ";exits=";
  put_hex(s, c.exits);
  s += ";sys=";
  for (size_t i = 0; i < std::size(c.syscalls); ++i) {
    if (i) s += ',';
    put_hex(s, c.syscalls[i]);
  }
  s += c.other_syscalls ? ";sysother=1" : ";sysother=0";
  s += ";sig=";
  put_hex(s, c.signals);
  s += ";stack=" + std::to_string(c.stack_depth);
  s += c.follow ? ";follow=1" : ";follow=0";
  s += c.summary ? ";summary=1" : ";summary=0";
  s += ";root=" + std::to_string(c.root);
  s += ";strs=" + std::to_string(c.string_limit);
  s += std::string(";fdpaths=") + (c.fd_paths ? "1" : "0");
  s += ";dir=";
  s += c.dir;
  return s;
}

bool decode_trace_config(std::string_view text, TraceConfig* out) {
  TraceConfig c;
  bool have_dir = false;
  while (!text.empty()) {
    size_t eq = text.find('=');
    if (eq == std::string_view::npos) return false;
    std::string_view key = text.substr(0, eq);
    text.remove_prefix(eq + 1);
    if (key == "dir") {
      // The rest, whatever it holds.
      if (text.empty() || text.size() >= sizeof c.dir) return false;
      std::memcpy(c.dir, text.data(), text.size());
      c.dir[text.size()] = 0;
      have_dir = true;
      break;
    }
    size_t semi = text.find(';');
    std::string_view value = text.substr(0, semi);
    text = semi == std::string_view::npos ? std::string_view{} : text.substr(semi + 1);
    uint64_t h = 0;
    int n = 0;
    if (key == "kinds") {
      if (!parse_hex(value, &h)) return false;
      c.kinds = static_cast<uint32_t>(h);
    } else if (key == "exits") {
      if (!parse_hex(value, &h)) return false;
      c.exits = static_cast<uint32_t>(h);
    } else if (key == "sys") {
      for (size_t i = 0; i < std::size(c.syscalls); ++i) {
        size_t comma = value.find(',');
        if ((comma == std::string_view::npos) != (i + 1 == std::size(c.syscalls))) return false;
        if (!parse_hex(value.substr(0, comma), &c.syscalls[i])) return false;
        value = comma == std::string_view::npos ? std::string_view{} : value.substr(comma + 1);
      }
    } else if (key == "sig") {
      if (!parse_hex(value, &c.signals)) return false;
    } else if (key == "stack") {
      if (!parse_int(value, &c.stack_depth)) return false;
    } else if (key == "follow" || key == "summary" || key == "sysother" || key == "fdpaths") {
      if (value != "0" && value != "1") return false;
      (key == "follow"    ? c.follow
       : key == "summary" ? c.summary
       : key == "fdpaths" ? c.fd_paths
                          : c.other_syscalls) = value == "1";
    } else if (key == "strs") {
      if (!parse_int(value, &n) || n < 0 || n > 65536) return false;
      c.string_limit = n;
    } else if (key == "root") {
      if (!parse_int(value, &n)) return false;
      c.root = n;
    } else {
      return false;
    }
  }
  if (!have_dir) return false;
  *out = c;
  return true;
}

}  // namespace dune
