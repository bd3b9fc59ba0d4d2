#include "kvm/vcpu.h"

#include <cstring>

#include "kvm/fpu_state.h"
#include "kvm/vm.h"

namespace dune {

Result<Vcpu> Vcpu::create(const Vm& vm, int id, size_t mmap_size) {
  Vcpu v;
  long fd = UniqueFd::create(&v.fd_, [&] { return sys::ioctl(vm.fd(), vm.ioctls().create_vcpu, static_cast<long>(id)); });
  if (sys::is_error(fd)) return Error(static_cast<int>(fd));
  v.ops_ = &vm.ioctls();
  v.id_ = id;
  auto run = Mapping::shared_fd(v.fd(), mmap_size);
  if (!run) return Error(run.error());
  v.run_ = std::move(run.value());
  v.run()->kvm_valid_regs = KVM_SYNC_X86_REGS;
  return v;
}

Status Vcpu::get_sregs(kvm_sregs* s) const { return status_of(sys::ioctl(fd(), ops_->get_sregs, s)); }
Status Vcpu::set_sregs(const kvm_sregs& s) { return status_of(sys::ioctl(fd(), ops_->set_sregs, &s)); }
Status Vcpu::set_regs(const kvm_regs& r) { return status_of(sys::ioctl(fd(), ops_->set_regs, &r)); }
Status Vcpu::get_regs(kvm_regs* r) const { return status_of(sys::ioctl(fd(), ops_->get_regs, r)); }

Status Vcpu::set_cpuid(const kvm::CpuidTable& t) {
  if (!ops_->set_cpuid2) return {};
  return status_of(sys::ioctl(fd(), ops_->set_cpuid2, &t));
}

Status Vcpu::set_msrs(const kvm_msr_entry* entries, uint32_t n) {
  kvm::MsrList<16> list;
  if (n > 16) return Error(-EINVAL);
  list.header.count = n;
  std::memcpy(list.entries, entries, n * sizeof(kvm_msr_entry));
  long r = sys::ioctl(fd(), ops_->set_msrs, &list);
  if (r < 0) return Error(static_cast<int>(r));
  // KVM_SET_MSRS returns how many it set: a short count means one was refused.
  if (static_cast<uint32_t>(r) != n) return Error(-EINVAL);
  return {};
}

Status Vcpu::set_msr(uint32_t index, uint64_t value) {
  kvm_msr_entry e{};
  e.index = index;
  e.data = value;
  return set_msrs(&e, 1);
}

Result<uint64_t> Vcpu::get_msr(uint32_t index) const {
  kvm::MsrList<1> list;
  list.header.count = 1;
  list.entries[0] = {};
  list.entries[0].index = index;
  long r = sys::ioctl(fd(), ops_->get_msrs, &list);
  if (r != 1) return Error(r < 0 ? static_cast<int>(r) : -EINVAL);
  return static_cast<uint64_t>(list.entries[0].data);
}

Status Vcpu::set_xcr0(uint64_t xcr0) {
  kvm_xcrs x{};
  x.nr_xcrs = 1;
  x.xcrs[0].xcr = 0;
  x.xcrs[0].value = xcr0;
  return status_of(sys::ioctl(fd(), ops_->set_xcrs, &x));
}

Status Vcpu::get_xsave(void* buf, size_t size) const {
  if (fpu_ioctls_) {
    kvm_fpu f{};
    long r = sys::ioctl(fd(), ops_->get_fpu, &f);
    if (r < 0) return Error(static_cast<int>(r));
    std::memset(buf, 0, size);
    fpu::kvm_fpu_to_fxsave(f, buf);
    fpu::mark_legacy_state(buf);
    return {};
  }
  // KVM_GET_XSAVE2 fills as many bytes as KVM_CAP_XSAVE2 said; KVM_GET_XSAVE
  // 4096; the module's GET_XSAVE its dune_info.xsave_size (KVM_CAP_XSAVE2 there).
  bool large = size > sizeof(kvm::XsaveRegion) && ops_->get_xsave2;
  return status_of(sys::ioctl(fd(), large ? ops_->get_xsave2 : ops_->get_xsave, buf));
}

Status Vcpu::set_xsave(const void* buf) {
  if (fpu_ioctls_) {
    kvm_fpu f;
    fpu::fxsave_to_kvm_fpu(buf, &f);
    return status_of(sys::ioctl(fd(), ops_->set_fpu, &f));
  }
  return status_of(sys::ioctl(fd(), ops_->set_xsave, buf));
}

Status Vcpu::set_guest_debug(const kvm_guest_debug& d) {
  if (!ops_->set_guest_debug) return Error(-ENOTSUP);
  return status_of(sys::ioctl(fd(), ops_->set_guest_debug, &d));
}

Status Vcpu::zero_tsc_offset() {
  if (!ops_->set_device_attr) return {};
  uint64_t offset = 0;
  kvm_device_attr attr{};
  attr.group = KVM_VCPU_TSC_CTRL;
  attr.attr = KVM_VCPU_TSC_OFFSET;
  attr.addr = reinterpret_cast<uint64_t>(&offset);
  long r = sys::ioctl(fd(), ops_->set_device_attr, &attr);
  if (r == 0) return {};
  // Older KVM: write the TSC MSR to the host's current value (close, not exact).
  uint32_t lo, hi;
  asm volatile("rdtsc" : "=a"(lo), "=d"(hi));
  kvm_msr_entry e{};
  e.index = kvm::kMsrTsc;
  e.data = (static_cast<uint64_t>(hi) << 32) | lo;
  return set_msrs(&e, 1);
}

}  // namespace dune
