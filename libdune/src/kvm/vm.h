// vm.h - one KVM virtual machine: its memory slots and its vCPU file descriptors.
#pragma once

#include <cstdint>

#include "base/result.h"
#include "base/unique_fd.h"

namespace dune {

class Vm {
 public:
  static Result<Vm> create(int kvm_fd);

  int fd() const { return fd_.get(); }
  long check(long cap) const;

  // Registers (size > 0) or deletes (size == 0) memory slot `slot`: guest
  // physical [gpa, gpa + size) is backed by host virtual [hva, hva + size).
  Status set_slot(uint32_t slot, uint64_t gpa, uint64_t size, uint64_t hva);
  // Turns off KVM behaviours we do not want, where KVM lets us.
  void disable_quirks();

 private:
  UniqueFd fd_;
};

}  // namespace dune
