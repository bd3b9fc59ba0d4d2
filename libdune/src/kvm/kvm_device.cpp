#include "kvm/kvm_device.h"

#include <fcntl.h>

#include <cstdlib>

#include "base/log.h"
#include "kvm/kvm_abi.h"

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
    if (err == -ENOENT || err == -ENODEV || err == -ENXIO)
      log::error("cannot enter Dune mode: {} does not exist (no KVM on this host)", path);
    else if (err == -EACCES || err == -EPERM)
      log::error("cannot enter Dune mode: no permission to open {} (add the user to group kvm)",
                 path);
    else
      log::error("cannot enter Dune mode: opening {} failed: {}", path, log::errno_name(err));
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

long KvmDevice::check(long cap) const {
  long r = sys::ioctl(fd(), KVM_CHECK_EXTENSION, cap);
  return r < 0 ? 0 : r;
}

}  // namespace dune
