/* abi_numbers_in_c.c - see abi_numbers_in_c.h. Compiled as C on purpose. */
#include "abi_numbers_in_c.h"

#include <dune_abi.h>

const struct abi_numbers module_numbers_in_c = {
    DUNE_SET_REGION, DUNE_CREATE_VCPU, DUNE_RUN,
    DUNE_GET_REGS,   DUNE_SET_REGS,    DUNE_GET_SREGS, DUNE_SET_SREGS,
    DUNE_GET_MSRS,   DUNE_SET_MSRS,    DUNE_SET_XCRS,  DUNE_GET_XSAVE, DUNE_SET_XSAVE,
};

const struct abi_numbers kvm_numbers_in_c = {
    KVM_SET_USER_MEMORY_REGION, KVM_CREATE_VCPU, KVM_RUN,
    KVM_GET_REGS,  KVM_SET_REGS,  KVM_GET_SREGS, KVM_SET_SREGS,
    KVM_GET_MSRS,  KVM_SET_MSRS,  KVM_SET_XCRS,  KVM_GET_XSAVE, KVM_SET_XSAVE,
};
