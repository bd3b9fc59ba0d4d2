// kvm_device.h - /dev/kvm: opening it, its API version and capabilities.
#pragma once

#include "base/result.h"
#include "base/unique_fd.h"

namespace dune {

class KvmDevice {
 public:
  // Opens the KVM device (path: default_path() when null) and checks that the
  // API and the capabilities libdune needs are there. Errors: -ENOENT (no
  // /dev/kvm), -EACCES (no permission), -ENOTSUP (a needed capability is missing).
  static Result<KvmDevice> open(const char* path = nullptr);
  // DUNE_KVM_DEVICE from the environment, else /dev/kvm.
  static const char* default_path();

  int fd() const { return fd_.get(); }
  // KVM_CHECK_EXTENSION on /dev/kvm: 0 when absent.
  long check(long cap) const;
  size_t vcpu_mmap_size() const { return vcpu_mmap_size_; }

 private:
  UniqueFd fd_;
  size_t vcpu_mmap_size_ = 0;
};

}  // namespace dune
