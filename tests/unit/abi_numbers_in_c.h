/* abi_numbers_in_c.h - request numbers as C computes them: the module is C,
 * and KVM's header sizes its variable-length structures differently in C++. */
#ifndef DUNE_TEST_ABI_NUMBERS_IN_C_H
#define DUNE_TEST_ABI_NUMBERS_IN_C_H

#ifdef __cplusplus
extern "C" {
#endif

struct abi_numbers {
  unsigned long set_memory_region, create_vcpu, run;
  unsigned long get_regs, set_regs, get_sregs, set_sregs;
  unsigned long get_msrs, set_msrs, set_xcrs, get_xsave, set_xsave;
};

extern const struct abi_numbers module_numbers_in_c; /* dune_abi.h's DUNE_* */
extern const struct abi_numbers kvm_numbers_in_c;    /* linux/kvm.h's KVM_* */

#ifdef __cplusplus
}
#endif

#endif
