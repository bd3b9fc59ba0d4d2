// module_abi.h - kernel/include/uapi/dune_abi.h, the contract with the Dune
// kernel module, as libdune includes it (never include <dune_abi.h> directly).
//
// Two of its names cannot be used as they are in C++ here:
// - DUNE_EXIT_MEMORY_FAULT, a kvm_run exit reason, has the name of a
//   dune_exit_kind of <dune/trace.h> (another value). The macro is checked
//   against kvm::kExitMemoryFault, the number the run loop tests, and removed.
// - DUNE_GET_MSRS, DUNE_SET_MSRS, DUNE_GET_XSAVE and DUNE_SET_XSAVE encode
//   sizeof(struct kvm_msrs) and sizeof(struct kvm_xsave), which differ in C++
//   with Debian 12's headers (see kvm_abi.h): use ioctl_table() instead.
#pragma once

#include <dune_abi.h>

#include <cstddef>

#include "kvm/kvm_abi.h"

static_assert(DUNE_EXIT_MEMORY_FAULT == dune::kvm::kExitMemoryFault);
#undef DUNE_EXIT_MEMORY_FAULT

// The memory-fault exit is read with KVM's layout for both backends.
static_assert(sizeof(dune_memory_fault) == sizeof(dune::kvm::MemoryFaultExit));
static_assert(offsetof(dune_memory_fault, flags) == offsetof(dune::kvm::MemoryFaultExit, flags));
static_assert(offsetof(dune_memory_fault, gpa) == offsetof(dune::kvm::MemoryFaultExit, gpa));
static_assert(offsetof(dune_memory_fault, size) == offsetof(dune::kvm::MemoryFaultExit, size));
static_assert(DUNE_MEMORY_FAULT_WRITE == dune::kvm::kMemoryFaultWrite);
