// The gdb server's pure parts: packet framing, registers and the target
// description, signal numbers, the listen address, hardware breakpoint slots.
#include <gtest/gtest.h>
#include <linux/kvm.h>

#include <csignal>
#include <cstring>
#include <string>
#include <vector>

#include "debug/gdb_address.h"
#include "debug/gdb_registers.h"
#include "debug/gdb_signals.h"
#include "debug/hw_breakpoints.h"
#include "debug/rsp_packet.h"

namespace dune {
namespace {

std::string str(const rsp::Text& t) { return std::string(t.data(), t.size()); }

TEST(RspPacket, FramesWithChecksumAndEscapes) {
  EXPECT_EQ(str(rsp::frame("OK")), "$OK#9a");
  EXPECT_EQ(str(rsp::frame("")), "$#00");
  // '#', '$', '}' and '*' go as '}' and the byte xor 0x20.
  EXPECT_EQ(str(rsp::frame("a#b")).substr(0, 5), "$a}\x03" "b");
}

TEST(RspPacket, ReaderSplitsPacketsAcksAndInterrupts) {
  rsp::PacketReader r;
  std::string m = str(rsp::frame("m10,4"));
  std::string in = "+$qC#b4\x03-junk" + m.substr(0, m.size() - 2);
  r.feed(in.data(), in.size());
  EXPECT_EQ(r.next(), rsp::Input::kAck);
  ASSERT_EQ(r.next(), rsp::Input::kPacket);
  EXPECT_EQ(str(r.payload()), "qC");
  EXPECT_EQ(r.next(), rsp::Input::kInterrupt);
  EXPECT_EQ(r.next(), rsp::Input::kNack);
  EXPECT_EQ(r.next(), rsp::Input::kNone) << "a packet cut short waits for its checksum";
  std::string rest = m.substr(m.size() - 2);
  r.feed(rest.data(), rest.size());
  ASSERT_EQ(r.next(), rsp::Input::kPacket);
  EXPECT_EQ(str(r.payload()), "m10,4");
}

TEST(RspPacket, BadChecksumAndEscapedPayload) {
  rsp::PacketReader r;
  std::string bad = "$qC#00";
  r.feed(bad.data(), bad.size());
  EXPECT_EQ(r.next(), rsp::Input::kBadPacket);
  rsp::Text framed = rsp::frame(std::string("X0,2:}#", 7));
  r.feed(framed.data(), framed.size());
  ASSERT_EQ(r.next(), rsp::Input::kPacket);
  EXPECT_EQ(str(r.payload()), std::string("X0,2:}#", 7));
}

TEST(RspPacket, Hex) {
  uint8_t b[3];
  EXPECT_TRUE(rsp::parse_hex_bytes("0aFf10", b, 3));
  EXPECT_EQ(b[0], 0x0a);
  EXPECT_EQ(b[1], 0xff);
  EXPECT_FALSE(rsp::parse_hex_bytes("0g", b, 1));
  EXPECT_FALSE(rsp::parse_hex_bytes("0", b, 1));
  uint64_t v;
  EXPECT_TRUE(rsp::parse_hex_number("7fffdead", &v));
  EXPECT_EQ(v, 0x7fffdeadull);
  EXPECT_FALSE(rsp::parse_hex_number("", &v));
  EXPECT_FALSE(rsp::parse_hex_number("12345678901234567", &v)) << "more than 64 bits";
  EXPECT_EQ(str(rsp::hex_number(0)), "0");
  EXPECT_EQ(str(rsp::hex_number(0x1f2e)), "1f2e");
}

TEST(GdbRegisters, DescriptionNamesEveryFeatureAndRegister) {
  std::string xml(gdb::target_xml());
  for (const char* f : {"org.gnu.gdb.i386.core", "org.gnu.gdb.i386.sse", "org.gnu.gdb.i386.linux",
                        "org.gnu.gdb.i386.segments", "org.gnu.gdb.i386.avx"})
    EXPECT_NE(xml.find(f), std::string::npos) << f;
  EXPECT_NE(xml.find("<architecture>i386:x86-64</architecture>"), std::string::npos);
  EXPECT_NE(xml.find("name=\"orig_rax\" bitsize=\"64\" type=\"int\" regnum=\"57\""), std::string::npos);
  EXPECT_NE(xml.find("name=\"fs_base\" bitsize=\"64\" type=\"int\" regnum=\"58\""), std::string::npos);
  EXPECT_NE(xml.find("name=\"ymm15h\" bitsize=\"128\" type=\"uint128\" regnum=\"75\""), std::string::npos);
  EXPECT_EQ(xml.substr(xml.size() - 9), "</target>");
  EXPECT_EQ(gdb::register_count(), 76);
  // 16*8 + 8 + 4 + 6*4 + 8*10 + 8*4 + 16*16 + 4 + 8 + 8 + 8 + 16*16
  EXPECT_EQ(gdb::g_packet_bytes(), 816u);
}

struct Image {
  std::vector<uint8_t> bytes = std::vector<uint8_t>(4096, 0);
  gdb::RegisterState state() {
    gdb::RegisterState s;
    s.xsave = bytes.data();
    s.xsave_size = bytes.size();
    return s;
  }
};

TEST(GdbRegisters, GeneralRegistersInGdbOrder) {
  Image img;
  gdb::RegisterState s = img.state();
  s.tf.rax = 0x1122334455667788;
  s.tf.rbx = 2;
  s.tf.rip = 0x401000;
  s.tf.rflags = 0x246;
  s.fs_base = 0x7f0000001000;
  rsp::Text out = rsp::text();
  ASSERT_TRUE(gdb::read_register(s, 0, out));
  EXPECT_EQ(str(out), "8877665544332211") << "little-endian";
  out.clear();
  gdb::read_register(s, 16, out);
  EXPECT_EQ(str(out), "0010400000000000");
  out.clear();
  gdb::read_register(s, 17, out);
  EXPECT_EQ(str(out), "46020000") << "eflags: 32 bits";
  out.clear();
  gdb::read_register(s, 18, out);
  EXPECT_EQ(str(out), "33000000") << "cs as Linux shows it";
  out.clear();
  gdb::read_register(s, 58, out);
  EXPECT_EQ(str(out), "00100000007f0000");
  EXPECT_FALSE(gdb::read_register(s, 76, out));
  EXPECT_FALSE(gdb::read_register(s, -1, out));
}

TEST(GdbRegisters, WritesMarkWhatChanged) {
  Image img;
  gdb::RegisterState s = img.state();
  EXPECT_TRUE(gdb::write_register(s, 5, "efbeadde00000000"));  // rdi
  EXPECT_EQ(s.tf.rdi, 0xdeadbeefull);
  EXPECT_TRUE(s.regs_dirty);
  EXPECT_FALSE(s.fpu_dirty);
  EXPECT_FALSE(gdb::write_register(s, 5, "efbe")) << "short";
  EXPECT_TRUE(gdb::write_register(s, 18, "00000000")) << "selectors are taken and ignored";
  // xmm1 = bytes 0..15: the legacy area at 160 + 16, and XSTATE_BV's SSE bit.
  std::string xmm;
  for (int i = 0; i < 16; ++i) xmm += "0" + std::string(1, "0123456789abcdef"[i]);
  EXPECT_TRUE(gdb::write_register(s, 41, xmm));
  EXPECT_TRUE(s.fpu_dirty);
  EXPECT_EQ(img.bytes[176 + 15], 15);
  EXPECT_EQ(img.bytes[512] & 2, 2);
  // ymm0h: the AVX area at 576, and its bit.
  EXPECT_TRUE(gdb::write_register(s, 60, std::string(30, '0') + "ff"));
  EXPECT_EQ(img.bytes[576 + 15], 0xff);
  EXPECT_EQ(img.bytes[512] & 4, 4);
}

TEST(GdbRegisters, X87TagWordBothWays) {
  Image img;
  gdb::RegisterState s = img.state();
  // An empty stack: every tag 3.
  rsp::Text out = rsp::text();
  gdb::read_register(s, 34, out);
  EXPECT_EQ(str(out), "ffff0000");
  // st0 (physical 7 with TOP = 7) holds 1.0: valid (0).
  uint16_t fsw = 7 << 11;
  std::memcpy(&img.bytes[2], &fsw, 2);
  img.bytes[4] = 0x80;  // abridged: physical 7 in use
  uint64_t mantissa = 1ull << 63;
  uint16_t exponent = 0x3fff;
  std::memcpy(&img.bytes[32], &mantissa, 8);
  std::memcpy(&img.bytes[40], &exponent, 2);
  out.clear();
  gdb::read_register(s, 34, out);
  EXPECT_EQ(str(out), "ff3f0000");
  // Written back: abridged bits from "not empty".
  EXPECT_TRUE(gdb::write_register(s, 34, "ff0f0000"));
  EXPECT_EQ(img.bytes[4], 0xc0);
}

TEST(GdbRegisters, GPacketRoundTrip) {
  Image img;
  gdb::RegisterState s = img.state();
  s.tf.r15 = 0xabc;
  rsp::Text g = rsp::text();
  gdb::read_all(s, g);
  ASSERT_EQ(g.size(), 2 * gdb::g_packet_bytes());
  gdb::RegisterState t = img.state();
  EXPECT_TRUE(gdb::write_all(t, std::string_view(g.data(), g.size())));
  EXPECT_EQ(t.tf.r15, 0xabcull);
  EXPECT_FALSE(t.fpu_dirty) << "unchanged FPU registers leave the image alone";
  std::string broken(g.data(), g.size());
  broken[10] = 'z';
  gdb::RegisterState u = img.state();
  EXPECT_FALSE(gdb::write_all(u, broken));
  EXPECT_EQ(u.tf.r15, 0u) << "a bad packet changes nothing";
}

TEST(GdbSignals, LinuxAndGdbNumbers) {
  EXPECT_EQ(gdb::signal_to_gdb(SIGSEGV), 11);
  EXPECT_EQ(gdb::signal_to_gdb(SIGBUS), 10);
  EXPECT_EQ(gdb::signal_to_gdb(SIGUSR1), 30);
  EXPECT_EQ(gdb::signal_to_gdb(SIGCHLD), 20);
  EXPECT_EQ(gdb::signal_to_gdb(40), 52);
  EXPECT_EQ(gdb::signal_to_gdb(32), 77);
  EXPECT_EQ(gdb::signal_to_gdb(64), 78);
  for (int s = 1; s <= 64; ++s) {
    if (s == SIGSTKFLT) continue;
    EXPECT_EQ(gdb::signal_from_gdb(gdb::signal_to_gdb(s)), s) << s;
  }
  EXPECT_EQ(gdb::signal_from_gdb(0), 0);
  EXPECT_EQ(gdb::signal_from_gdb(143), 0) << "gdb's unknown";
}

TEST(GdbAddress, PortsHostsAndPaths) {
  debug::ListenAddress a;
  const char* why = nullptr;
  ASSERT_TRUE(debug::parse_listen_address("1234", &a, &why));
  EXPECT_EQ(a.port, 1234);
  EXPECT_EQ(a.ipv4, 0x7f000001u) << "loopback by default";
  ASSERT_TRUE(debug::parse_listen_address("0.0.0.0:0", &a, &why));
  EXPECT_EQ(a.ipv4, 0u);
  EXPECT_EQ(a.port, 0);
  ASSERT_TRUE(debug::parse_listen_address("*:99", &a, &why));
  EXPECT_EQ(a.ipv4, 0u);
  ASSERT_TRUE(debug::parse_listen_address("localhost:2345", &a, &why));
  EXPECT_EQ(a.ipv4, 0x7f000001u);
  ASSERT_TRUE(debug::parse_listen_address("10.1.2.3:5", &a, &why));
  EXPECT_EQ(a.ipv4, 0x0a010203u);
  ASSERT_TRUE(debug::parse_listen_address("/tmp/gdb.sock", &a, &why));
  EXPECT_TRUE(a.is_unix);
  EXPECT_STREQ(a.path, "/tmp/gdb.sock");
  for (const char* bad : {"", "65536", "x", "1.2.3:4", "1.2.3.4.5:6", "256.0.0.1:1", "host:12", ":", "12a"}) {
    EXPECT_FALSE(debug::parse_listen_address(bad, &a, &why)) << bad;
    EXPECT_NE(why, nullptr);
  }
}

TEST(HwBreakpoints, SlotsAndDr7) {
  debug::set_hw_supported(true);
  debug::remove_all_hw();
  kvm_guest_debug d;
  debug::fill_guest_debug(&d);
  EXPECT_EQ(d.control, 0u) << "none: KVM's guest debugging off";
  EXPECT_EQ(debug::insert_hw(debug::HwKind::kWrite, 0x1000, 4), 0);
  EXPECT_EQ(debug::insert_hw(debug::HwKind::kExec, 0x401000, 1), 0);
  EXPECT_EQ(debug::insert_hw(debug::HwKind::kWrite, 0x1002, 4), -EINVAL) << "unaligned";
  EXPECT_EQ(debug::insert_hw(debug::HwKind::kAccess, 0x2000, 3), -EINVAL);
  debug::fill_guest_debug(&d);
  EXPECT_EQ(d.control, static_cast<uint32_t>(KVM_GUESTDBG_ENABLE | KVM_GUESTDBG_USE_HW_BP));
  EXPECT_EQ(d.arch.debugreg[0], 0x1000u);
  EXPECT_EQ(d.arch.debugreg[1], 0x401000u);
  // L0, L1; slot 0: R/W 01 (write), LEN 11 (4 bytes); slot 1: execute, one byte.
  EXPECT_EQ(d.arch.debugreg[7], 0x400u | 1 | 4 | (0xdull << 16));
  EXPECT_EQ(debug::insert_hw(debug::HwKind::kAccess, 0x3000, 8), 0);
  EXPECT_EQ(debug::insert_hw(debug::HwKind::kRead, 0x4000, 2), 0);
  EXPECT_EQ(debug::insert_hw(debug::HwKind::kWrite, 0x5000, 1), -ENOSPC);
  debug::HwKind kind;
  uint64_t addr;
  EXPECT_TRUE(debug::hw_hit(0xffff0ff0 | 4, &kind, &addr));
  EXPECT_EQ(kind, debug::HwKind::kAccess);
  EXPECT_EQ(addr, 0x3000u);
  EXPECT_FALSE(debug::hw_hit(0xffff0ff0, &kind, &addr));
  uint32_t gen = debug::hw_generation();
  EXPECT_EQ(debug::remove_hw(debug::HwKind::kWrite, 0x1000, 4), 0);
  EXPECT_NE(debug::hw_generation(), gen);
  EXPECT_FALSE(debug::hw_hit(1, &kind, &addr)) << "slot 0 is free again";
  debug::set_hw_supported(false);
  EXPECT_EQ(debug::insert_hw(debug::HwKind::kWrite, 0x1000, 4), -ENOTSUP);
  debug::remove_all_hw();
}

}  // namespace
}  // namespace dune
