/* SPDX-License-Identifier: GPL-2.0 */
/* dune_vcpu.h - one vCPU: its VMCS, the guest state outside the VMCS, its run page. */
#ifndef DUNE_VCPU_H
#define DUNE_VCPU_H

#include <linux/mutex.h>
#include <linux/types.h>
#include <asm/fpu/api.h>

#include "dune_vm.h"

/* In the VMX order of general registers (rsp lives in the VMCS); vmenter.S knows the offsets. */
struct dune_gprs {
	u64 rax, rcx, rdx, rbx, rsp_unused, rbp, rsi, rdi;
	u64 r8, r9, r10, r11, r12, r13, r14, r15;
};

/* Guest MSRs the CPU does not switch: swapped around each entry. */
struct dune_guest_msrs {
	u64 kernel_gs_base, star, lstar, cstar, sfmask;
};

struct dune_exit_info {
	u32 reason;
	u32 intr_info;
	u32 vectoring_info;
	u32 vectoring_error;
	u32 instr_len;
	u64 qualification;
	u64 gpa;
};

struct dune_vcpu {
	struct dune_vm *vm;
	struct mutex lock; /* one ioctl at a time */

	struct dune_gprs gprs;
	u64 rip, rsp, rflags;
	bool regs_dirty; /* rip/rsp/rflags changed since they were read from the VMCS */
	u64 cr2;
	struct dune_guest_msrs msrs;
	u64 xcr0;
	struct fpu_guest fpu;

	void *vmcs;
	u64 vmcs_pa;
	int cpu; /* where the VMCS is active, -1 if nowhere */
	bool launched;
	u64 host_cr3, host_cr4, host_fs_base; /* last values written to the VMCS */

	struct kvm_run *run;

	/* An `in`/`out` handed to user space, finished at the next run if RIP is unchanged. */
	bool io_pending, io_in;
	u32 io_len, io_size;
	u64 io_rip;

	/* An event to deliver at the next entry (re-injection or a fault we raise). */
	u32 inject_info, inject_error, inject_len;

	struct dune_exit_info exit;

	/* Zeroed pages for new EPT tables, topped up before each fault takes the VM's lock. */
	struct dune_ept_cache ept_cache;
};

int dune_vcpu_module_init(void);
void dune_vcpu_module_exit(void);

/* A new vCPU of vm (its VMCS set up, registers at reset), or an ERR_PTR; and its end. */
struct dune_vcpu *dune_vcpu_create(struct dune_vm *vm);
void dune_vcpu_free(struct dune_vcpu *v);

/* VMCS access: between load and put, preemption is off and the VMCS is current here. */
int dune_vcpu_load(struct dune_vcpu *v);
void dune_vcpu_put(struct dune_vcpu *v);

void dune_vcpu_get_regs(struct dune_vcpu *v, struct kvm_regs *r);
int dune_vcpu_set_regs(struct dune_vcpu *v, const struct kvm_regs *r);
int dune_vcpu_get_sregs(struct dune_vcpu *v, struct kvm_sregs *s);
int dune_vcpu_set_sregs(struct dune_vcpu *v, const struct kvm_sregs *s);

/* DUNE_GET_MSRS/DUNE_SET_MSRS, DUNE_SET_XCRS, DUNE_GET_XSAVE/DUNE_SET_XSAVE on the user's arg. */
long dune_vcpu_msrs_ioctl(struct dune_vcpu *v, void __user *arg, bool write);
long dune_vcpu_set_xcrs(struct dune_vcpu *v, void __user *arg);
long dune_vcpu_xsave_ioctl(struct dune_vcpu *v, void __user *arg, bool write);

/* rflags bits a guest may hold (bit 1 is always set; VM86 never). */
#define DUNE_RFLAGS_ALLOWED 0x3d7fd5ull
#define DUNE_RFLAGS_FIXED 0x2ull

#endif
