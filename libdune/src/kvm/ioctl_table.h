// ioctl_table.h - the request numbers Vm and Vcpu send, per backend.
//
// The structures are KVM's on both backends; only the numbers differ. A zero
// is a request the backend does not have, and the operation that would send
// it has nothing to do there (each field says why).
#pragma once

#include "kvm/backend.h"

namespace dune {

struct IoctlTable {
  // On the VM descriptor.
  unsigned long set_memory_region;  // struct kvm_userspace_memory_region
  unsigned long create_vcpu;        // returns the vCPU descriptor
  // 0 on the module: its capabilities are the facts of DUNE_GET_INFO.
  unsigned long check_extension;
  // 0 on the module: it has no quirks to turn off.
  unsigned long enable_cap;

  // On a vCPU descriptor.
  unsigned long run;
  unsigned long get_regs, set_regs;
  unsigned long get_sregs, set_sregs;
  unsigned long get_msrs, set_msrs;  // kvm::ArrayHeader, then the entries
  unsigned long set_xcrs;
  unsigned long get_xsave, set_xsave;  // the first 4096 bytes (more on the module if its info says so)
  // The rest are 0 on the module:
  unsigned long get_xsave2;       // the module's GET_XSAVE fills dune_info.xsave_size bytes
  unsigned long set_cpuid2;       // the module answers CPUID from the host's own
  unsigned long set_device_attr;  // the TSC offset: the module's guest TSC is the host's
  unsigned long get_fpu, set_fpu;  // the module always moves XSAVE images
  unsigned long set_guest_debug;  // a debugger's hardware breakpoints: not on the module
};

const IoctlTable& ioctl_table(Backend backend);

}  // namespace dune
