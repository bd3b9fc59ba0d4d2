#include "kvm/module_capabilities.h"

namespace dune {

long module_capability(const dune_info& info, long cap) {
  switch (cap) {
    case KVM_CAP_NR_MEMSLOTS: return info.max_slots;
    case KVM_CAP_XSAVE2: return info.xsave_size;
    // GET/SET_XSAVE always exist: libdune never needs KVM_GET/SET_FPU there (on a
    // host without XSAVE, host_xcr0 == 0, the image holds x87 and SSE only).
    case KVM_CAP_XSAVE: return 1;
    case KVM_CAP_XCRS: return 1;
    case KVM_CAP_SYNC_REGS: return KVM_SYNC_X86_REGS;
    case KVM_CAP_IMMEDIATE_EXIT: return 1;
    case KVM_CAP_USER_MEMORY: return 1;
    case kvm::kCapMemoryFaultInfo: return 1;
    default: return 0;
  }
}

}  // namespace dune
