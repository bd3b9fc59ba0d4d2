// module_abi.h - kernel/include/uapi/dune_abi.h, the contract with the Dune
// kernel module, as libdune includes it (never include <dune_abi.h> directly).
//
// DUNE_RUN_EXIT_MEMORY_FAULT is checked against kvm::kExitMemoryFault, the
// number the run loop tests for both backends.
#pragma once

#include <dune_abi.h>

#include <cstddef>

#include "kvm/kvm_abi.h"

static_assert(DUNE_RUN_EXIT_MEMORY_FAULT == dune::kvm::kExitMemoryFault);

// The memory-fault exit is read with KVM's layout for both backends.
static_assert(sizeof(dune_memory_fault) == sizeof(dune::kvm::MemoryFaultExit));
static_assert(offsetof(dune_memory_fault, flags) == offsetof(dune::kvm::MemoryFaultExit, flags));
static_assert(offsetof(dune_memory_fault, gpa) == offsetof(dune::kvm::MemoryFaultExit, gpa));
static_assert(offsetof(dune_memory_fault, size) == offsetof(dune::kvm::MemoryFaultExit, size));
static_assert(DUNE_MEMORY_FAULT_WRITE == dune::kvm::kMemoryFaultWrite);
