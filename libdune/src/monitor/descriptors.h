// descriptors.h - encoders for x86-64 segment, TSS and gate descriptors.
#pragma once

#include <cstdint>

namespace dune::desc {

// Selectors, laid out as Linux lays out its GDT, so that the program sees the
// same CS and SS values it sees natively.
constexpr uint16_t kKernelCs = 0x10;
constexpr uint16_t kKernelDs = 0x18;
constexpr uint16_t kUser32Cs = 0x23;
constexpr uint16_t kUserDs = 0x2b;
constexpr uint16_t kUserCs = 0x33;
constexpr uint16_t kTss = 0x40;
constexpr uint16_t kCpuNode = 0x7b;  // the vDSO's getcpu reads its limit with LSL
constexpr int kGdtEntries = 16;

// Access byte and flags nibble, in the "flags" form 0xF0FF: [flags:4][0:4][access:8].
constexpr uint16_t kCode64Kernel = 0xa09b;  // L, present, DPL 0, code exec/read, accessed
constexpr uint16_t kData64Kernel = 0xc093;  // G, D, present, DPL 0, data read/write, accessed
constexpr uint16_t kCode32User = 0xc0fb;
constexpr uint16_t kData64User = 0xc0f3;
constexpr uint16_t kCode64User = 0xa0fb;
constexpr uint16_t kCpuNodeUser = 0x40f5;  // present, DPL 3, read-only data, limit = cpu|node<<12

constexpr uint64_t segment(uint32_t base, uint32_t limit, uint16_t flags) {
  return (limit & 0xffffull) | (static_cast<uint64_t>(base & 0xffffff) << 16) |
         (static_cast<uint64_t>(flags & 0xff) << 40) |
         (static_cast<uint64_t>((limit >> 16) & 0xf) << 48) |
         (static_cast<uint64_t>((flags >> 12) & 0xf) << 52) |
         (static_cast<uint64_t>((base >> 24) & 0xff) << 56);
}

// A 64-bit available TSS descriptor: two GDT entries.
inline void tss(uint64_t out[2], uint64_t base, uint32_t limit) {
  out[0] = (limit & 0xffffull) | ((base & 0xffffffull) << 16) | (0x89ull << 40) |
           (static_cast<uint64_t>((limit >> 16) & 0xf) << 48) | (((base >> 24) & 0xffull) << 56);
  out[1] = base >> 32;
}

// A 64-bit interrupt gate (IF cleared on entry).
inline void interrupt_gate(uint64_t out[2], uint64_t handler, uint16_t selector, int dpl, int ist) {
  out[0] = (handler & 0xffffull) | (static_cast<uint64_t>(selector) << 16) |
           (static_cast<uint64_t>(ist & 7) << 32) |
           (static_cast<uint64_t>(0x8e | ((dpl & 3) << 5)) << 40) |
           (((handler >> 16) & 0xffffull) << 48);
  out[1] = handler >> 32;
}

// The 64-bit TSS.
struct __attribute__((packed)) Tss64 {
  uint32_t reserved0;
  uint64_t rsp[3];
  uint64_t reserved1;
  uint64_t ist[7];
  uint64_t reserved2;
  uint16_t reserved3;
  uint16_t iomap_base;
};
static_assert(sizeof(Tss64) == 104);

// The I/O permission bitmap: bit clear = port allowed at CPL 3. Covers ports
// 0..kIoBitmapPorts-1; ports past its end are denied.
constexpr int kIoBitmapPorts = 128;
constexpr int kIoBitmapBytes = kIoBitmapPorts / 8 + 1;  // plus the 0xff terminator

// The frame the CPU pushes on an exception from ring 3 (without error code).
struct IretFrame {
  uint64_t rip;
  uint64_t cs;
  uint64_t rflags;
  uint64_t rsp;
  uint64_t ss;
};

// Vectors for which the CPU pushes an error code.
constexpr bool has_error_code(int vector) {
  return vector == 8 || (vector >= 10 && vector <= 14) || vector == 17 || vector == 21 ||
         vector == 29 || vector == 30;
}

}  // namespace dune::desc
