// module_capabilities.h - KVM capability questions answered for /dev/dune.
//
// The module has no KVM_CHECK_EXTENSION: what libdune asks KVM about is
// either fixed by the module's ABI or one of the facts of DUNE_GET_INFO.
#pragma once

#include "kvm/module_abi.h"

namespace dune {

// What KVM_CHECK_EXTENSION(cap) would say of a VM with the module's facts:
// KVM_CAP_NR_MEMSLOTS its max_slots, KVM_CAP_XSAVE2 its xsave_size, 0 for
// what the module does not have (KVM_CAP_EXT_CPUID: it answers CPUID from
// the host; quirks).
long module_capability(const dune_info& info, long cap);

}  // namespace dune
