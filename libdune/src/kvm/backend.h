// backend.h - which kernel interface a VM is driven through.
//
// Both speak KVM's structures (registers, MSRs, XSAVE, memory regions, the run
// page); they differ in request numbers and in how a VM comes to be: /dev/kvm
// makes VMs with KVM_CREATE_VM, while each open of /dev/dune is a VM.
#pragma once

namespace dune {

enum class Backend {
  kKvm,     // /dev/kvm
  kModule,  // /dev/dune, the Dune kernel module (kernel/include/uapi/dune_abi.h)
};

}  // namespace dune
