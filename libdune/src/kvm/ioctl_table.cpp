#include "kvm/ioctl_table.h"

#include "kvm/kvm_abi.h"
#include "kvm/module_abi.h"

namespace dune {
namespace {

// dune_abi.h spells out the sizes its MSR and XSAVE requests encode; they are
// the C sizes of the structures libdune sends.
static_assert(DUNE_MSRS_HEADER_SIZE == sizeof(kvm::ArrayHeader));
static_assert(DUNE_XSAVE_SIZE == sizeof(kvm::XsaveRegion));

// Vcpu::set_msrs sends up to 16 entries at once.
static_assert(DUNE_MAX_MSRS >= 16);

constexpr IoctlTable kKvm = {
    .set_memory_region = KVM_SET_USER_MEMORY_REGION,
    .create_vcpu = KVM_CREATE_VCPU,
    .check_extension = KVM_CHECK_EXTENSION,
    .enable_cap = KVM_ENABLE_CAP,
    .run = KVM_RUN,
    .get_regs = KVM_GET_REGS,
    .set_regs = KVM_SET_REGS,
    .get_sregs = KVM_GET_SREGS,
    .set_sregs = KVM_SET_SREGS,
    .get_msrs = kvm::kGetMsrs,
    .set_msrs = kvm::kSetMsrs,
    .set_xcrs = KVM_SET_XCRS,
    .get_xsave = kvm::kGetXsave,
    .set_xsave = kvm::kSetXsave,
    .get_xsave2 = kvm::kGetXsave2,
    .set_cpuid2 = kvm::kSetCpuid2,
    .set_device_attr = KVM_SET_DEVICE_ATTR,
    .get_fpu = KVM_GET_FPU,
    .set_fpu = KVM_SET_FPU,
    .set_guest_debug = KVM_SET_GUEST_DEBUG,
};

constexpr IoctlTable kModule = {
    .set_memory_region = DUNE_SET_REGION,
    .create_vcpu = DUNE_CREATE_VCPU,
    .check_extension = 0,
    .enable_cap = 0,
    .run = DUNE_RUN,
    .get_regs = DUNE_GET_REGS,
    .set_regs = DUNE_SET_REGS,
    .get_sregs = DUNE_GET_SREGS,
    .set_sregs = DUNE_SET_SREGS,
    .get_msrs = DUNE_GET_MSRS,
    .set_msrs = DUNE_SET_MSRS,
    .set_xcrs = DUNE_SET_XCRS,
    .get_xsave = DUNE_GET_XSAVE,
    .set_xsave = DUNE_SET_XSAVE,
    .get_xsave2 = 0,
    .set_cpuid2 = 0,
    .set_device_attr = 0,
    .get_fpu = 0,
    .set_fpu = 0,
    .set_guest_debug = 0,
};

}  // namespace

const IoctlTable& ioctl_table(Backend backend) { return backend == Backend::kModule ? kModule : kKvm; }

}  // namespace dune
