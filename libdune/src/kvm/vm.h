// vm.h - one virtual machine, of /dev/kvm or of the Dune module: its memory
// slots and the descriptor its vCPUs are made from.
#pragma once

#include <cstdint>

#include "base/result.h"
#include "base/unique_fd.h"
#include "kvm/backend.h"
#include "kvm/ioctl_table.h"
#include "kvm/kvm_device.h"

namespace dune {

class Vm {
 public:
  // A new VM of the calling process: KVM_CREATE_VM on /dev/kvm; on the module,
  // the VM the device's opening made, or (in a forked child, where the
  // device's VM is the parent's) a new open of its path.
  static Result<Vm> create(KvmDevice& dev);

  int fd() const { return fd_.get(); }
  Backend backend() const { return backend_; }
  const IoctlTable& ioctls() const { return ioctl_table(backend_); }
  // KVM_CHECK_EXTENSION on the VM (0 when absent); the module's answer.
  long check(long cap) const;

  // Registers (size > 0) or deletes (size == 0) memory slot `slot`: guest
  // physical [gpa, gpa + size) is backed by host virtual [hva, hva + size).
  Status set_slot(uint32_t slot, uint64_t gpa, uint64_t size, uint64_t hva);
  // Turns off KVM behaviours we do not want, where KVM lets us.
  void disable_quirks();
  // The module only: which syscalls arriving on `port` it may complete in the
  // kernel (DUNE_FAST_* bits; port 0 turns that off). -ENOTSUP on /dev/kvm.
  Status set_syscall_fastpath(uint16_t port, uint64_t syscalls);

 private:
  UniqueFd fd_;
  Backend backend_ = Backend::kKvm;
  dune_info module_info_{};
};

}  // namespace dune
