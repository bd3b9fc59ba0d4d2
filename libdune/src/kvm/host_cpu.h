// host_cpu.h - what the host CPU is: its CPUID leaves, XCR0, address widths.
#pragma once

#include <cstdint>

#include "kvm/kvm_abi.h"

namespace dune {

struct HostCpu {
  kvm::CpuidTable cpuid;  // the host's own leaves, given to the guest as they are
  uint64_t xcr0 = 0;      // enabled XSAVE features (XGETBV 0)
  uint32_t xsave_size = 0;  // bytes of the standard XSAVE area for xcr0
  int phys_bits = 36;     // MAXPHYADDR
  int virt_bits = 48;
  bool has_nx = false;
  bool has_fsgsbase = false;
  bool has_pcid = false;
  bool has_xsave = false;  // enabled by the kernel (OSXSAVE), not merely present
  bool has_avx512 = false;
  bool has_avx2 = false;
  bool has_rdpid = false;
  bool constant_tsc = false;
  bool vmx = false;  // VT-x visible to this process (bare metal or nested)
  bool svm = false;
  bool hypervisor = false;  // this host is itself a guest
  char vendor[13] = {};
  char model[49] = {};
};

// Reads the CPU once per process.
const HostCpu& host_cpu();

}  // namespace dune
