#include "kvm/vm.h"

#include <fcntl.h>

#include "base/log.h"
#include "kvm/kvm_abi.h"
#include "kvm/module_abi.h"
#include "kvm/module_capabilities.h"
#include "kvm/module_device.h"

namespace dune {

Result<Vm> Vm::create(KvmDevice& dev) {
  Vm vm;
  vm.backend_ = dev.backend();
  if (dev.backend() == Backend::kModule) {
    vm.fd_ = dev.take_module_vm();
    vm.module_info_ = dev.module_info();
    if (vm.fd_.valid()) return vm;
    DeviceProblem why;
    auto reopened = open_module_vm(dev.module_path(), &why);
    if (!reopened) {
      log::error("cannot enter Dune mode: {}", why.text);
      return Error(reopened.error());
    }
    vm.fd_ = std::move(reopened->fd);
    vm.module_info_ = reopened->info;
    return vm;
  }
  long fd = UniqueFd::create(&vm.fd_, [&] {
    long r;
    do {
      r = sys::ioctl(dev.fd(), KVM_CREATE_VM, 0L);
    } while (r == -EINTR);
    return r;
  });
  if (sys::is_error(fd)) {
    log::error("cannot enter Dune mode: KVM_CREATE_VM failed: {}", log::errno_name(static_cast<int>(fd)));
    return Error(static_cast<int>(fd));
  }
  return vm;
}

long Vm::check(long cap) const {
  if (backend_ == Backend::kModule) return module_capability(module_info_, cap);
  long r = sys::ioctl(fd(), ioctls().check_extension, cap);
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
    rc = sys::ioctl(fd(), ioctls().set_memory_region, &r);
  } while (rc == -EINTR || rc == -EAGAIN);
  return status_of(rc);
}

void Vm::disable_quirks() {
  // With shadow paging KVM zaps every shadow page whenever any slot is deleted;
  // a program that unmaps memory would then re-fault its whole working set.
  // (The module answers no quirks: nothing to do there.)
  long quirks = check(kvm::kCapDisableQuirks2);
  if (quirks & static_cast<long>(kvm::kQuirkSlotZapAll)) {
    kvm_enable_cap cap{};
    cap.cap = kvm::kCapDisableQuirks2;
    cap.args[0] = kvm::kQuirkSlotZapAll;
    sys::ioctl(fd(), ioctls().enable_cap, &cap);
  }
}

Status Vm::set_syscall_fastpath(uint16_t port, uint64_t syscalls) {
  if (backend_ != Backend::kModule) return Error(-ENOTSUP);
  dune_syscall_fastpath f{};
  f.port = port;
  f.syscalls = syscalls;
  return status_of(sys::ioctl(fd(), DUNE_SET_SYSCALL_FASTPATH, &f));
}

}  // namespace dune
