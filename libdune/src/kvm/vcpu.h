// vcpu.h - one virtual CPU (of either backend): its run structure and register access.
#pragma once

#include <cstdint>

#include "base/mapping.h"
#include "base/result.h"
#include "base/unique_fd.h"
#include "kvm/ioctl_table.h"
#include "kvm/kvm_abi.h"

namespace dune {

class Vm;

class Vcpu {
 public:
  // A new vCPU of vm; its run structure is mmap_size bytes.
  static Result<Vcpu> create(const Vm& vm, int id, size_t mmap_size);

  int fd() const { return fd_.get(); }
  int id() const { return id_; }
  kvm_run* run() const { return run_.as<kvm_run>(); }

  // General registers travel through the run structure (KVM_CAP_SYNC_REGS):
  // no ioctl per exit. Writes take effect at the next run() after mark_regs_dirty().
  kvm_regs& regs() { return run()->s.regs.regs; }
  void mark_regs_dirty() { run()->kvm_dirty_regs |= KVM_SYNC_X86_REGS; }

  // KVM_RUN (DUNE_RUN); returns 0 or -errno (-EINTR when a host signal is pending).
  long enter() {
    return sys::ioctl(fd_.get(), ops_->run, 0L);
  }

  Status get_sregs(kvm_sregs* s) const;
  Status set_sregs(const kvm_sregs& s);
  Status set_regs(const kvm_regs& r);
  Status get_regs(kvm_regs* r) const;
  // The guest's CPUID answers (none to give where the backend answers from the host's).
  Status set_cpuid(const kvm::CpuidTable& t);
  Status set_msrs(const kvm_msr_entry* entries, uint32_t n);
  Status set_msr(uint32_t index, uint64_t value);
  Result<uint64_t> get_msr(uint32_t index) const;
  Status set_xcr0(uint64_t xcr0);
  // The FPU/vector state as an XSAVE image in the user-ABI (non-compacted)
  // layout, `size` bytes (>= 4096). Through KVM_GET/SET_XSAVE, or, where KVM
  // has no XSAVE (a host kernel without it), KVM_GET/SET_FPU and the legacy area.
  Status get_xsave(void* buf, size_t size) const;
  Status set_xsave(const void* buf);
  // (The module has no KVM_GET/SET_FPU: it always moves XSAVE images.)
  void use_fpu_ioctls(bool on) { fpu_ioctls_ = on && ops_->get_fpu && ops_->set_fpu; }
  // KVM's own debug registers for the guest (hits exit with KVM_EXIT_DEBUG,
  // unseen by the guest): -ENOTSUP on the module.
  Status set_guest_debug(const kvm_guest_debug& d);
  // Makes the guest TSC read the host's TSC (it does already on the module).
  Status zero_tsc_offset();

 private:
  const IoctlTable* ops_ = &ioctl_table(Backend::kKvm);
  UniqueFd fd_;
  Mapping run_;
  int id_ = -1;
  bool fpu_ioctls_ = false;
};

}  // namespace dune
