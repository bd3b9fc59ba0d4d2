#include "debug/gdb_registers.h"

#include <fmt/format.h>

#include <cstring>
#include <mutex>

namespace dune::gdb {

namespace {

enum class Feature : uint8_t { kCore, kSse, kLinux, kSegments, kAvx };
enum class Source : uint8_t { kGpr, kRip, kFlags, kSelector, kSt, kFpuControl, kXmm, kMxcsr, kOrigRax,
                              kFsBase, kGsBase, kYmmHigh };

struct Reg {
  const char* name;
  uint16_t bits;
  const char* type;
  const char* group;  // nullptr: gdb's default for the type
  Feature feature;
  Source source;
  uint8_t index;
};

// gdb's amd64 order (its regnums 0..75).
constexpr Reg kRegs[] = {
    {"rax", 64, "int64", nullptr, Feature::kCore, Source::kGpr, 0},
    {"rbx", 64, "int64", nullptr, Feature::kCore, Source::kGpr, 1},
    {"rcx", 64, "int64", nullptr, Feature::kCore, Source::kGpr, 2},
    {"rdx", 64, "int64", nullptr, Feature::kCore, Source::kGpr, 3},
    {"rsi", 64, "int64", nullptr, Feature::kCore, Source::kGpr, 4},
    {"rdi", 64, "int64", nullptr, Feature::kCore, Source::kGpr, 5},
    {"rbp", 64, "data_ptr", nullptr, Feature::kCore, Source::kGpr, 6},
    {"rsp", 64, "data_ptr", nullptr, Feature::kCore, Source::kGpr, 7},
    {"r8", 64, "int64", nullptr, Feature::kCore, Source::kGpr, 8},
    {"r9", 64, "int64", nullptr, Feature::kCore, Source::kGpr, 9},
    {"r10", 64, "int64", nullptr, Feature::kCore, Source::kGpr, 10},
    {"r11", 64, "int64", nullptr, Feature::kCore, Source::kGpr, 11},
    {"r12", 64, "int64", nullptr, Feature::kCore, Source::kGpr, 12},
    {"r13", 64, "int64", nullptr, Feature::kCore, Source::kGpr, 13},
    {"r14", 64, "int64", nullptr, Feature::kCore, Source::kGpr, 14},
    {"r15", 64, "int64", nullptr, Feature::kCore, Source::kGpr, 15},
    {"rip", 64, "code_ptr", nullptr, Feature::kCore, Source::kRip, 0},
    {"eflags", 32, "i386_eflags", nullptr, Feature::kCore, Source::kFlags, 0},
    {"cs", 32, "int32", nullptr, Feature::kCore, Source::kSelector, 0},
    {"ss", 32, "int32", nullptr, Feature::kCore, Source::kSelector, 1},
    {"ds", 32, "int32", nullptr, Feature::kCore, Source::kSelector, 2},
    {"es", 32, "int32", nullptr, Feature::kCore, Source::kSelector, 3},
    {"fs", 32, "int32", nullptr, Feature::kCore, Source::kSelector, 4},
    {"gs", 32, "int32", nullptr, Feature::kCore, Source::kSelector, 5},
    {"st0", 80, "i387_ext", nullptr, Feature::kCore, Source::kSt, 0},
    {"st1", 80, "i387_ext", nullptr, Feature::kCore, Source::kSt, 1},
    {"st2", 80, "i387_ext", nullptr, Feature::kCore, Source::kSt, 2},
    {"st3", 80, "i387_ext", nullptr, Feature::kCore, Source::kSt, 3},
    {"st4", 80, "i387_ext", nullptr, Feature::kCore, Source::kSt, 4},
    {"st5", 80, "i387_ext", nullptr, Feature::kCore, Source::kSt, 5},
    {"st6", 80, "i387_ext", nullptr, Feature::kCore, Source::kSt, 6},
    {"st7", 80, "i387_ext", nullptr, Feature::kCore, Source::kSt, 7},
    {"fctrl", 32, "int", "float", Feature::kCore, Source::kFpuControl, 0},
    {"fstat", 32, "int", "float", Feature::kCore, Source::kFpuControl, 1},
    {"ftag", 32, "int", "float", Feature::kCore, Source::kFpuControl, 2},
    {"fiseg", 32, "int", "float", Feature::kCore, Source::kFpuControl, 3},
    {"fioff", 32, "int", "float", Feature::kCore, Source::kFpuControl, 4},
    {"foseg", 32, "int", "float", Feature::kCore, Source::kFpuControl, 5},
    {"fooff", 32, "int", "float", Feature::kCore, Source::kFpuControl, 6},
    {"fop", 32, "int", "float", Feature::kCore, Source::kFpuControl, 7},
#define DUNE_XMM(n) {"xmm" #n, 128, "vec128", nullptr, Feature::kSse, Source::kXmm, n}
    DUNE_XMM(0), DUNE_XMM(1), DUNE_XMM(2), DUNE_XMM(3), DUNE_XMM(4), DUNE_XMM(5), DUNE_XMM(6), DUNE_XMM(7),
    DUNE_XMM(8), DUNE_XMM(9), DUNE_XMM(10), DUNE_XMM(11), DUNE_XMM(12), DUNE_XMM(13), DUNE_XMM(14), DUNE_XMM(15),
#undef DUNE_XMM
    {"mxcsr", 32, "i386_mxcsr", "vector", Feature::kSse, Source::kMxcsr, 0},
    {"orig_rax", 64, "int", nullptr, Feature::kLinux, Source::kOrigRax, 0},
    {"fs_base", 64, "int", nullptr, Feature::kSegments, Source::kFsBase, 0},
    {"gs_base", 64, "int", nullptr, Feature::kSegments, Source::kGsBase, 0},
#define DUNE_YMMH(n) {"ymm" #n "h", 128, "uint128", nullptr, Feature::kAvx, Source::kYmmHigh, n}
    DUNE_YMMH(0), DUNE_YMMH(1), DUNE_YMMH(2), DUNE_YMMH(3), DUNE_YMMH(4), DUNE_YMMH(5), DUNE_YMMH(6), DUNE_YMMH(7),
    DUNE_YMMH(8), DUNE_YMMH(9), DUNE_YMMH(10), DUNE_YMMH(11), DUNE_YMMH(12), DUNE_YMMH(13), DUNE_YMMH(14),
    DUNE_YMMH(15),
#undef DUNE_YMMH
};
constexpr int kCount = sizeof(kRegs) / sizeof(kRegs[0]);

// XSAVE standard format: the legacy area, its header, then AVX's high halves.
constexpr size_t kFcw = 0, kFsw = 2, kFtw = 4, kFop = 6, kFip = 8, kFcs = 12, kFdp = 16, kFds = 20;
constexpr size_t kMxcsrAt = 24, kStAt = 32, kXmmAt = 160, kXstateBv = 512, kYmmHighAt = 576;
constexpr uint64_t kX87Bit = 1, kSseBit = 2, kAvxBit = 4;

// dune_tf's members in gdb's order of the general registers.
constexpr uint64_t dune_tf::*kGpr[16] = {
    &dune_tf::rax, &dune_tf::rbx, &dune_tf::rcx, &dune_tf::rdx, &dune_tf::rsi, &dune_tf::rdi,
    &dune_tf::rbp, &dune_tf::rsp, &dune_tf::r8,  &dune_tf::r9,  &dune_tf::r10, &dune_tf::r11,
    &dune_tf::r12, &dune_tf::r13, &dune_tf::r14, &dune_tf::r15};
// What Linux shows a 64-bit program: its code and stack selectors, null others.
constexpr uint32_t kSelectors[6] = {0x33, 0x2b, 0, 0, 0, 0};

const char* feature_name(Feature f) {
  switch (f) {
    case Feature::kCore: return "org.gnu.gdb.i386.core";
    case Feature::kSse: return "org.gnu.gdb.i386.sse";
    case Feature::kLinux: return "org.gnu.gdb.i386.linux";
    case Feature::kSegments: return "org.gnu.gdb.i386.segments";
    case Feature::kAvx: return "org.gnu.gdb.i386.avx";
  }
  return "";
}

// The types a feature defines before its registers.
const char* feature_types(Feature f) {
  switch (f) {
    case Feature::kCore:
      return "<flags id=\"i386_eflags\" size=\"4\"><field name=\"CF\" start=\"0\" end=\"0\"/>"
             "<field name=\"\" start=\"1\" end=\"1\"/><field name=\"PF\" start=\"2\" end=\"2\"/>"
             "<field name=\"AF\" start=\"4\" end=\"4\"/><field name=\"ZF\" start=\"6\" end=\"6\"/>"
             "<field name=\"SF\" start=\"7\" end=\"7\"/><field name=\"TF\" start=\"8\" end=\"8\"/>"
             "<field name=\"IF\" start=\"9\" end=\"9\"/><field name=\"DF\" start=\"10\" end=\"10\"/>"
             "<field name=\"OF\" start=\"11\" end=\"11\"/><field name=\"NT\" start=\"14\" end=\"14\"/>"
             "<field name=\"RF\" start=\"16\" end=\"16\"/><field name=\"VM\" start=\"17\" end=\"17\"/>"
             "<field name=\"AC\" start=\"18\" end=\"18\"/><field name=\"VIF\" start=\"19\" end=\"19\"/>"
             "<field name=\"VIP\" start=\"20\" end=\"20\"/><field name=\"ID\" start=\"21\" end=\"21\"/></flags>";
    case Feature::kSse:
      return "<vector id=\"v4f\" type=\"ieee_single\" count=\"4\"/>"
             "<vector id=\"v2d\" type=\"ieee_double\" count=\"2\"/>"
             "<vector id=\"v16i8\" type=\"int8\" count=\"16\"/>"
             "<vector id=\"v8i16\" type=\"int16\" count=\"8\"/>"
             "<vector id=\"v4i32\" type=\"int32\" count=\"4\"/>"
             "<vector id=\"v2i64\" type=\"int64\" count=\"2\"/>"
             "<union id=\"vec128\"><field name=\"v4_float\" type=\"v4f\"/>"
             "<field name=\"v2_double\" type=\"v2d\"/><field name=\"v16_int8\" type=\"v16i8\"/>"
             "<field name=\"v8_int16\" type=\"v8i16\"/><field name=\"v4_int32\" type=\"v4i32\"/>"
             "<field name=\"v2_int64\" type=\"v2i64\"/><field name=\"uint128\" type=\"uint128\"/></union>"
             "<flags id=\"i386_mxcsr\" size=\"4\"><field name=\"IE\" start=\"0\" end=\"0\"/>"
             "<field name=\"DE\" start=\"1\" end=\"1\"/><field name=\"ZE\" start=\"2\" end=\"2\"/>"
             "<field name=\"OE\" start=\"3\" end=\"3\"/><field name=\"UE\" start=\"4\" end=\"4\"/>"
             "<field name=\"PE\" start=\"5\" end=\"5\"/><field name=\"DAZ\" start=\"6\" end=\"6\"/>"
             "<field name=\"IM\" start=\"7\" end=\"7\"/><field name=\"DM\" start=\"8\" end=\"8\"/>"
             "<field name=\"ZM\" start=\"9\" end=\"9\"/><field name=\"OM\" start=\"10\" end=\"10\"/>"
             "<field name=\"UM\" start=\"11\" end=\"11\"/><field name=\"PM\" start=\"12\" end=\"12\"/>"
             "<field name=\"FZ\" start=\"15\" end=\"15\"/></flags>";
    default: return "";
  }
}

char g_xml[16384];
size_t g_xml_len = 0;
std::once_flag g_xml_once;

struct XmlWriter {
  char* out = g_xml;
  char* end = g_xml + sizeof(g_xml);
  template <typename... A>
  void operator()(fmt::format_string<A...> f, A&&... a) {
    out = fmt::format_to_n(out, static_cast<size_t>(end - out), f, std::forward<A>(a)...).out;
  }
};

void build_xml() {
  XmlWriter put;
  put("<?xml version=\"1.0\"?><!DOCTYPE target SYSTEM \"gdb-target.dtd\"><target version=\"1.0\">"
      "<architecture>i386:x86-64</architecture><osabi>GNU/Linux</osabi>");
  for (int i = 0; i < kCount;) {
    Feature f = kRegs[i].feature;
    put("<feature name=\"{}\">{}", feature_name(f), feature_types(f));
    for (; i < kCount && kRegs[i].feature == f; ++i) {
      const Reg& r = kRegs[i];
      put("<reg name=\"{}\" bitsize=\"{}\" type=\"{}\" regnum=\"{}\"", r.name, r.bits, r.type, i);
      if (r.group) put(" group=\"{}\"", r.group);
      put("/>");
    }
    put("</feature>");
  }
  put("</target>");
  g_xml_len = static_cast<size_t>(put.out - g_xml);
}

uint16_t load16(const uint8_t* p) {
  uint16_t v;
  std::memcpy(&v, p, 2);
  return v;
}
uint32_t load32(const uint8_t* p) {
  uint32_t v;
  std::memcpy(&v, p, 4);
  return v;
}

// The x87 tag of one physical register (0 valid, 1 zero, 2 special, 3 empty)
// from FXSAVE's abridged tag and the register's contents.
unsigned full_tag(const uint8_t* image, int physical) {
  uint8_t abridged = image[kFtw];
  if (!(abridged & (1u << physical))) return 3;
  unsigned top = (load16(image + kFsw) >> 11) & 7;
  const uint8_t* st = image + kStAt + 16 * ((physical - static_cast<int>(top)) & 7);
  uint64_t mantissa;
  std::memcpy(&mantissa, st, 8);
  unsigned exponent = load16(st + 8) & 0x7fff;
  if (exponent == 0x7fff) return 2;
  if (exponent == 0) return mantissa == 0 ? 1 : 2;
  return (mantissa >> 63) ? 0 : 2;
}

// Where register r lives in the XSAVE image, how many bytes, and which state
// component a write to it makes live; false for registers not kept there.
bool fpu_place(const Reg& r, size_t* at, size_t* n, uint64_t* component) {
  switch (r.source) {
    case Source::kSt: *at = kStAt + 16 * r.index; *n = 10; *component = kX87Bit; return true;
    case Source::kXmm: *at = kXmmAt + 16 * r.index; *n = 16; *component = kSseBit; return true;
    case Source::kMxcsr: *at = kMxcsrAt; *n = 4; *component = kSseBit; return true;
    case Source::kYmmHigh: *at = kYmmHighAt + 16 * r.index; *n = 16; *component = kAvxBit; return true;
    default: return false;
  }
}

// Register r's value, little-endian, into out (its byte size).
void value_of(const RegisterState& s, const Reg& r, uint8_t* out) {
  size_t n = r.bits / 8;
  std::memset(out, 0, n);
  const uint8_t* img = s.xsave;
  size_t at, len;
  uint64_t component;
  uint64_t v = 0;
  switch (r.source) {
    case Source::kGpr: v = s.tf.*kGpr[r.index]; break;
    case Source::kRip: v = s.tf.rip; break;
    case Source::kFlags: v = s.tf.rflags; break;
    case Source::kSelector: v = kSelectors[r.index]; break;
    case Source::kOrigRax: v = ~0ull; break;
    case Source::kFsBase: v = s.fs_base; break;
    case Source::kGsBase: v = s.gs_base; break;
    case Source::kFpuControl:
      if (!img) break;
      switch (r.index) {
        case 0: v = load16(img + kFcw); break;
        case 1: v = load16(img + kFsw); break;
        case 2:
          for (int p = 0; p < 8; ++p) v |= static_cast<uint64_t>(full_tag(img, p)) << (2 * p);
          break;
        case 3: v = load16(img + kFcs); break;
        case 4: v = load32(img + kFip); break;
        case 5: v = load16(img + kFds); break;
        case 6: v = load32(img + kFdp); break;
        case 7: v = load16(img + kFop) & 0x7ff; break;
      }
      break;
    default:
      if (img && fpu_place(r, &at, &len, &component) && at + len <= s.xsave_size) std::memcpy(out, img + at, len);
      return;
  }
  std::memcpy(out, &v, n < 8 ? n : 8);
}

void set_value(RegisterState& s, const Reg& r, const uint8_t* in) {
  size_t n = r.bits / 8;
  uint64_t v = 0;
  std::memcpy(&v, in, n < 8 ? n : 8);
  uint8_t* img = s.xsave;
  size_t at, len;
  uint64_t component;
  switch (r.source) {
    case Source::kGpr: s.tf.*kGpr[r.index] = v; s.regs_dirty = true; return;
    case Source::kRip: s.tf.rip = v; s.regs_dirty = true; return;
    case Source::kFlags: s.tf.rflags = v; s.regs_dirty = true; return;
    case Source::kSelector:
    case Source::kOrigRax:
    case Source::kFsBase:
    case Source::kGsBase: return;  // the library's to set
    case Source::kFpuControl: {
      if (!img) return;
      auto store16 = [&](size_t off) { uint16_t x = static_cast<uint16_t>(v); std::memcpy(img + off, &x, 2); };
      auto store32 = [&](size_t off) { uint32_t x = static_cast<uint32_t>(v); std::memcpy(img + off, &x, 4); };
      switch (r.index) {
        case 0: store16(kFcw); break;
        case 1: store16(kFsw); break;
        case 2: {
          uint8_t abridged = 0;
          for (int p = 0; p < 8; ++p)
            if (((v >> (2 * p)) & 3) != 3) abridged = static_cast<uint8_t>(abridged | (1u << p));
          img[kFtw] = abridged;
          break;
        }
        case 3: store16(kFcs); break;
        case 4: store32(kFip); break;
        case 5: store16(kFds); break;
        case 6: store32(kFdp); break;
        case 7: v &= 0x7ff; store16(kFop); break;
      }
      component = kX87Bit;
      break;
    }
    default:
      if (!img || !fpu_place(r, &at, &len, &component) || at + len > s.xsave_size) return;
      std::memcpy(img + at, in, len);
      break;
  }
  uint64_t bv;
  std::memcpy(&bv, img + kXstateBv, 8);
  bv |= component;
  std::memcpy(img + kXstateBv, &bv, 8);
  s.fpu_dirty = true;
}

}  // namespace

int register_count() { return kCount; }

size_t register_bytes(int regnum) {
  return regnum >= 0 && regnum < kCount ? kRegs[regnum].bits / 8 : 0;
}

size_t g_packet_bytes() {
  size_t n = 0;
  for (const Reg& r : kRegs) n += r.bits / 8;
  return n;
}

std::string_view target_xml() {
  std::call_once(g_xml_once, build_xml);
  return {g_xml, g_xml_len};
}

bool read_register(const RegisterState& s, int regnum, rsp::Text& out) {
  if (regnum < 0 || regnum >= kCount) return false;
  uint8_t buf[16];
  value_of(s, kRegs[regnum], buf);
  rsp::append_hex(out, buf, kRegs[regnum].bits / 8);
  return true;
}

bool write_register(RegisterState& s, int regnum, std::string_view hex) {
  if (regnum < 0 || regnum >= kCount) return false;
  uint8_t buf[16];
  size_t n = kRegs[regnum].bits / 8;
  if (hex.size() != 2 * n || !rsp::parse_hex_bytes(hex, buf, n)) return false;
  set_value(s, kRegs[regnum], buf);
  return true;
}

void read_all(const RegisterState& s, rsp::Text& out) {
  for (int i = 0; i < kCount; ++i) read_register(s, i, out);
}

bool write_all(RegisterState& s, std::string_view hex) {
  if (hex.size() < 2 * g_packet_bytes()) return false;
  // Check every digit first: a bad packet changes nothing.
  uint8_t scratch[16];
  size_t at = 0;
  for (int i = 0; i < kCount; ++i) {
    size_t n = kRegs[i].bits / 8;
    if (!rsp::parse_hex_bytes(hex.substr(at, 2 * n), scratch, n)) return false;
    at += 2 * n;
  }
  at = 0;
  for (int i = 0; i < kCount; ++i) {
    size_t n = kRegs[i].bits / 8;
    uint8_t buf[16];
    rsp::parse_hex_bytes(hex.substr(at, 2 * n), buf, n);
    uint8_t cur[16];
    value_of(s, kRegs[i], cur);
    // Only what changed is written: an unchanged FPU register leaves the image as it was.
    if (std::memcmp(cur, buf, n) != 0) set_value(s, kRegs[i], buf);
    at += 2 * n;
  }
  return true;
}

}  // namespace dune::gdb
