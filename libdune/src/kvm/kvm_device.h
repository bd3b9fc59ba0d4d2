// kvm_device.h - the device VMs come from: /dev/kvm, or /dev/dune of the Dune
// kernel module; its version, its capabilities, the size of a vCPU's run page.
#pragma once

#include <cstddef>

#include "base/result.h"
#include "base/unique_fd.h"
#include "kvm/backend.h"
#include "kvm/device_problem.h"
#include "kvm/module_abi.h"

namespace dune {

class KvmDevice {
 public:
  // Opens the KVM device (path: default_path() when null) and checks that the
  // API and the capabilities libdune needs are there. Errors: -ENOENT (no
  // /dev/kvm), -EACCES (no permission), -ENOTSUP (a needed capability is missing).
  static Result<KvmDevice> open(const char* path = nullptr);
  // DUNE_KVM_DEVICE from the environment, else /dev/kvm.
  static const char* default_path();
  // Opens the module's device (path: default_module_path() when null) as
  // open_module_vm does, logging nothing: *why says what is wrong. Opening it
  // made a VM, which the first Vm::create takes instead of opening another.
  static Result<KvmDevice> open_module(const char* path, DeviceProblem* why);

  Backend backend() const { return backend_; }
  // /dev/kvm's descriptor; -1 on the module, whose descriptors are VMs.
  int fd() const { return fd_.get(); }
  // KVM_CHECK_EXTENSION on /dev/kvm (0 when absent); the module's answer.
  long check(long cap) const;
  size_t vcpu_mmap_size() const { return vcpu_mmap_size_; }
  // How wide a guest-physical address may be, given the CPU's MAXPHYADDR: on
  // the module also no wider than its EPT says (dune_info.phys_bits).
  int guest_phys_bits(int cpu_phys_bits) const;

  // The module: where it was opened (for a forked child's VM), its facts, and
  // the VM that opening it made (once; then an invalid descriptor).
  const char* module_path() const { return module_path_; }
  const dune_info& module_info() const { return module_info_; }
  UniqueFd take_module_vm() { return std::move(module_vm_); }

 private:
  Backend backend_ = Backend::kKvm;
  UniqueFd fd_;
  size_t vcpu_mmap_size_ = 0;
  UniqueFd module_vm_;
  dune_info module_info_{};
  char module_path_[256] = {};
};

}  // namespace dune
