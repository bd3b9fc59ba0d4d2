#include "kvm/vm.h"

#include <fcntl.h>

#include "base/log.h"
#include "kvm/kvm_abi.h"

namespace dune {

Result<Vm> Vm::create(int kvm_fd) {
  long fd;
  do {
    fd = sys::ioctl(kvm_fd, KVM_CREATE_VM, 0L);
  } while (fd == -EINTR);
  if (sys::is_error(fd)) {
    log::error("cannot enter Dune mode: KVM_CREATE_VM failed: {}", log::errno_name(static_cast<int>(fd)));
    return Error(static_cast<int>(fd));
  }
  Vm vm;
  vm.fd_ = UniqueFd::adopt(static_cast<int>(fd));
  return vm;
}

long Vm::check(long cap) const {
  long r = sys::ioctl(fd(), KVM_CHECK_EXTENSION, cap);
  return r < 0 ? 0 : r;
}

Status Vm::set_slot(uint32_t slot, uint64_t gpa, uint64_t size, uint64_t hva) {
  kvm_userspace_memory_region r{};
  r.slot = slot;
  r.guest_phys_addr = gpa;
  r.memory_size = size;
  r.userspace_addr = hva;
  long rc;
  do {
    rc = sys::ioctl(fd(), KVM_SET_USER_MEMORY_REGION, &r);
  } while (rc == -EINTR || rc == -EAGAIN);
  return status_of(rc);
}

void Vm::disable_quirks() {
  // With shadow paging KVM zaps every shadow page whenever any slot is deleted;
  // a program that unmaps memory would then re-fault its whole working set.
  long quirks = check(kvm::kCapDisableQuirks2);
  if (quirks & static_cast<long>(kvm::kQuirkSlotZapAll)) {
    kvm_enable_cap cap{};
    cap.cap = kvm::kCapDisableQuirks2;
    cap.args[0] = kvm::kQuirkSlotZapAll;
    sys::ioctl(fd(), KVM_ENABLE_CAP, &cap);
  }
}


}  // namespace dune
