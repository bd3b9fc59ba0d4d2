#include "kvm/ioctl_table.h"

#include "kvm/kvm_abi.h"
#include "kvm/module_abi.h"

namespace dune {
namespace {

// A request number with its size field replaced: dune_abi.h's MSR and XSAVE
// requests are defined with structures whose C++ size is not their C size.
constexpr unsigned long with_size(unsigned long request, unsigned long size) {
  return (request & ~(static_cast<unsigned long>(_IOC_SIZEMASK) << _IOC_SIZESHIFT)) | (size << _IOC_SIZESHIFT);
}

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
    .get_msrs = with_size(DUNE_GET_MSRS, sizeof(kvm::ArrayHeader)),
    .set_msrs = with_size(DUNE_SET_MSRS, sizeof(kvm::ArrayHeader)),
    .set_xcrs = DUNE_SET_XCRS,
    .get_xsave = with_size(DUNE_GET_XSAVE, sizeof(kvm::XsaveRegion)),
    .set_xsave = with_size(DUNE_SET_XSAVE, sizeof(kvm::XsaveRegion)),
    .get_xsave2 = 0,
    .set_cpuid2 = 0,
    .set_device_attr = 0,
    .get_fpu = 0,
    .set_fpu = 0,
};

}  // namespace

const IoctlTable& ioctl_table(Backend backend) { return backend == Backend::kModule ? kModule : kKvm; }

}  // namespace dune
