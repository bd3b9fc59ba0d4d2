#include "kvm/kvm_device.h"

#include <fcntl.h>

#include <cstdlib>
#include <cstring>

#include "base/log.h"
#include "kvm/kvm_abi.h"
#include "kvm/module_capabilities.h"
#include "kvm/module_device.h"

namespace dune {

const char* KvmDevice::default_path() {
  const char* device = std::getenv("DUNE_KVM_DEVICE");
  return device && *device ? device : "/dev/kvm";
}

Result<KvmDevice> KvmDevice::open(const char* path) {
  if (!path) path = default_path();
  long fd = sys::open(path, O_RDWR | O_CLOEXEC);
  if (sys::is_error(fd)) {
    int err = static_cast<int>(fd);
    DeviceProblem why;
    why.say_open_failed(path, err);
    OpenFailure failure = open_failure_of(err);
    log::error("cannot enter Dune mode: {}{}", why.text,
               failure == OpenFailure::kMissing        ? " (no KVM on this host)"
               : failure == OpenFailure::kNoPermission ? " (add the user to group kvm)"
                                                       : "");
    return Error(err);
  }
  KvmDevice dev;
  dev.fd_ = UniqueFd::adopt(static_cast<int>(fd));
  long version = sys::ioctl(dev.fd(), KVM_GET_API_VERSION, 0L);
  if (version != KVM_API_VERSION) {
    log::error("cannot enter Dune mode: {} has KVM API version {}, expected {}", path, version,
               KVM_API_VERSION);
    return Error(-ENOTSUP);
  }
  struct Needed {
    long cap;
    const char* name;
  };
  static constexpr Needed kNeeded[] = {
      {KVM_CAP_SYNC_REGS, "KVM_CAP_SYNC_REGS"},
      {KVM_CAP_IMMEDIATE_EXIT, "KVM_CAP_IMMEDIATE_EXIT"},
      {KVM_CAP_USER_MEMORY, "KVM_CAP_USER_MEMORY"},
      {KVM_CAP_EXT_CPUID, "KVM_CAP_EXT_CPUID"},
  };
  for (const auto& n : kNeeded) {
    if (dev.check(n.cap) <= 0) {
      log::error("cannot enter Dune mode: KVM lacks {}", n.name);
      return Error(-ENOTSUP);
    }
  }
  if (!(dev.check(KVM_CAP_SYNC_REGS) & KVM_SYNC_X86_REGS)) {
    log::error("cannot enter Dune mode: KVM cannot sync the general registers");
    return Error(-ENOTSUP);
  }
  long size = sys::ioctl(dev.fd(), KVM_GET_VCPU_MMAP_SIZE, 0L);
  if (size <= 0) {
    log::error("cannot enter Dune mode: KVM_GET_VCPU_MMAP_SIZE failed");
    return Error(size < 0 ? static_cast<int>(size) : -EIO);
  }
  dev.vcpu_mmap_size_ = static_cast<size_t>(size);
  return dev;
}

Result<KvmDevice> KvmDevice::open_module(const char* path, DeviceProblem* why) {
  if (!path) path = default_module_path();
  KvmDevice dev;
  // Kept for reopening in a forked child, whose environment may differ by then.
  size_t len = std::strlen(path);
  if (len >= sizeof(dev.module_path_)) {
    why->say("the module device path is too long ({} bytes)", len);
    return Error(-ENAMETOOLONG);
  }
  auto vm = open_module_vm(path, why);
  if (!vm) return Error(vm.error());
  dev.backend_ = Backend::kModule;
  std::memcpy(dev.module_path_, path, len + 1);
  dev.module_vm_ = std::move(vm->fd);
  dev.module_info_ = vm->info;
  dev.vcpu_mmap_size_ = vm->info.run_size;
  return dev;
}

int KvmDevice::guest_phys_bits(int cpu_phys_bits) const {
  int module_bits = static_cast<int>(module_info_.phys_bits);
  if (backend_ == Backend::kModule && module_bits > 0 && module_bits < cpu_phys_bits) return module_bits;
  return cpu_phys_bits;
}

long KvmDevice::check(long cap) const {
  if (backend_ == Backend::kModule) return module_capability(module_info_, cap);
  long r = sys::ioctl(fd(), KVM_CHECK_EXTENSION, cap);
  return r < 0 ? 0 : r;
}

}  // namespace dune
