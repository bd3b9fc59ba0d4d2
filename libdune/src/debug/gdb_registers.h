// gdb_registers.h - a stopped thread's registers as gdb sees them: the target
// description (amd64 GNU/Linux: core, SSE, orig_rax, FS/GS base, AVX) and the
// byte layout of the 'g', 'G', 'p' and 'P' packets, one table driving both.
#pragma once

#include <dune/dune.h>

#include <cstddef>
#include <cstdint>
#include <string_view>

#include "debug/rsp_packet.h"

namespace dune::gdb {

// What gdb reads and writes: the guest's ring-3 state, not the library's.
struct RegisterState {
  dune_tf tf{};          // general registers, rip, rflags
  uint64_t fs_base = 0;
  uint64_t gs_base = 0;
  uint8_t* xsave = nullptr;  // an XSAVE image (standard format), or null: FPU reads as zero
  size_t xsave_size = 0;
  bool fpu_dirty = false;    // set by a write to an x87/SSE/AVX register
  bool regs_dirty = false;   // set by a write to tf
};

// The number of registers in the description, and one's size in bytes.
int register_count();
size_t register_bytes(int regnum);  // 0 for a number out of range
// Bytes of a whole 'g' packet (before hex).
size_t g_packet_bytes();

// The target description (qXfer:features:read:target.xml).
std::string_view target_xml();

// Appends register regnum in hex to out; false for a number out of range.
bool read_register(const RegisterState& s, int regnum, rsp::Text& out);
// Writes it from hex; false for a number out of range or bad hex. Selectors,
// orig_rax and the FS/GS bases are taken and ignored (the library owns them).
bool write_register(RegisterState& s, int regnum, std::string_view hex);
// All registers in description order ('g'); all from a 'G' packet.
void read_all(const RegisterState& s, rsp::Text& out);
bool write_all(RegisterState& s, std::string_view hex);

}  // namespace dune::gdb
