#include "kvm/host_cpu.h"

#include <cpuid.h>

#include <cstring>

namespace dune {
namespace {

void cpuid(uint32_t leaf, uint32_t sub, uint32_t r[4]) {
  __cpuid_count(leaf, sub, r[0], r[1], r[2], r[3]);
}

uint64_t xgetbv0() {
  uint32_t lo, hi;
  asm volatile("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0));
  return (static_cast<uint64_t>(hi) << 32) | lo;
}

void put(kvm::CpuidTable& t, uint32_t leaf, uint32_t sub, bool indexed, const uint32_t r[4]) {
  if (t.header.count >= kvm::kMaxCpuidEntries) return;
  kvm_cpuid_entry2& e = t.entries[t.header.count++];
  e = {};
  e.function = leaf;
  e.index = sub;
  e.flags = indexed ? KVM_CPUID_FLAG_SIGNIFCANT_INDEX : 0;
  e.eax = r[0];
  e.ebx = r[1];
  e.ecx = r[2];
  e.edx = r[3];
}

// Adds a leaf with the subleaves that exist. CPUID traps to the hypervisor when
// this host is itself a VM (tens of microseconds each on a nested cloud), so
// subleaves are enumerated the way each leaf says, not probed blindly.
void add_leaf(kvm::CpuidTable& t, uint32_t leaf) {
  uint32_t r[4];
  cpuid(leaf, 0, r);
  auto add_while = [&](auto more) {
    for (uint32_t s = 0; s < 64; ++s) {
      if (s > 0) cpuid(leaf, s, r);
      if (s > 0 && !more(r)) return;
      put(t, leaf, s, true, r);
    }
  };
  switch (leaf) {
    case 0x4:
    case 0x8000001d:  // caches: until a null cache type
      add_while([](const uint32_t* x) { return (x[0] & 0x1f) != 0; });
      return;
    case 0xb:
    case 0x1f:  // topology: until a null level type
      add_while([](const uint32_t* x) { return ((x[2] >> 8) & 0xff) != 0; });
      return;
    case 0x7: case 0x14: case 0x17: case 0x18: case 0x1d: case 0x20: case 0x24: {
      // Subleaf 0's EAX is the last subleaf.
      uint32_t last = r[0] < 16 ? r[0] : 16;
      put(t, leaf, 0, true, r);
      for (uint32_t s = 1; s <= last; ++s) {
        cpuid(leaf, s, r);
        put(t, leaf, s, true, r);
      }
      return;
    }
    case 0xd: {
      // Subleaves 0 and 1, then one per XSAVE component the CPU supports.
      uint64_t xcr0 = r[0] | (static_cast<uint64_t>(r[3]) << 32);
      put(t, leaf, 0, true, r);
      cpuid(leaf, 1, r);
      uint64_t xss = r[2] | (static_cast<uint64_t>(r[3]) << 32);
      put(t, leaf, 1, true, r);
      for (uint32_t s = 2; s < 64; ++s) {
        if (!((xcr0 | xss) >> s & 1)) continue;
        cpuid(leaf, s, r);
        put(t, leaf, s, true, r);
      }
      return;
    }
    case 0xf: case 0x10: case 0x12: case 0x23: case 0x80000020: case 0x80000026:
      // Resource-monitoring style leaves: a handful of subleaves, zero where absent.
      add_while([](const uint32_t* x) { return x[0] || x[1] || x[2] || x[3]; });
      return;
    default:
      put(t, leaf, 0, false, r);
  }
}

HostCpu read_host_cpu() {
  HostCpu c;
  uint32_t r[4];
  cpuid(0, 0, r);
  uint32_t max_basic = r[0];
  std::memcpy(c.vendor + 0, &r[1], 4);
  std::memcpy(c.vendor + 4, &r[3], 4);
  std::memcpy(c.vendor + 8, &r[2], 4);
  for (uint32_t l = 0; l <= max_basic; ++l) add_leaf(c.cpuid, l);
  // Hypervisor leaves of the host, if it is itself virtual: programs see them natively.
  cpuid(1, 0, r);
  c.hypervisor = r[2] & (1u << 31);
  // XSAVE as the kernel enabled it (OSXSAVE): a kernel may turn off an XSAVE the
  // CPU has (Linux does when the CPU reports inconsistent sizes, as Bochs' does).
  c.has_xsave = (r[2] & (1u << 26)) && (r[2] & (1u << 27));
  c.vmx = r[2] & (1u << 5);
  if (c.hypervisor) {
    cpuid(0x40000000, 0, r);
    uint32_t max_hv = r[0];
    if (max_hv >= 0x40000000 && max_hv < 0x40000100)
      for (uint32_t l = 0x40000000; l <= max_hv; ++l) add_leaf(c.cpuid, l);
  }
  cpuid(0x80000000, 0, r);
  uint32_t max_ext = r[0];
  for (uint32_t l = 0x80000000; l <= max_ext && l < 0x80000100; ++l) add_leaf(c.cpuid, l);

  cpuid(7, 0, r);
  c.has_fsgsbase = r[1] & 1u;
  c.has_avx2 = r[1] & (1u << 5);
  c.has_avx512 = r[1] & (1u << 16);
  c.has_rdpid = r[2] & (1u << 22);
  cpuid(1, 0, r);
  c.has_pcid = r[2] & (1u << 17);
  if (max_ext >= 0x80000001) {
    cpuid(0x80000001, 0, r);
    c.has_nx = r[3] & (1u << 20);
    c.svm = r[2] & (1u << 2);
  }
  if (max_ext >= 0x80000004) {
    for (uint32_t i = 0; i < 3; ++i) {
      cpuid(0x80000002 + i, 0, r);
      std::memcpy(c.model + 16 * i, r, 16);
    }
    // Trim the padding some CPUs put around the name.
    char* s = c.model;
    while (*s == ' ') ++s;
    std::memmove(c.model, s, std::strlen(s) + 1);
    for (size_t n = std::strlen(c.model); n > 0 && c.model[n - 1] == ' '; --n) c.model[n - 1] = 0;
  }
  if (max_ext >= 0x80000007) {
    cpuid(0x80000007, 0, r);
    c.constant_tsc = r[3] & (1u << 8);
  }
  if (max_ext >= 0x80000008) {
    cpuid(0x80000008, 0, r);
    c.phys_bits = static_cast<int>(r[0] & 0xff);
    c.virt_bits = static_cast<int>((r[0] >> 8) & 0xff);
  }
  if (c.has_xsave) {
    c.xcr0 = xgetbv0();
    cpuid(0xd, 0, r);
    c.xsave_size = r[1];  // size for the features enabled in XCR0
  }
  return c;
}

}  // namespace

const HostCpu& host_cpu() {
  static const HostCpu cpu = read_host_cpu();
  return cpu;
}

}  // namespace dune
