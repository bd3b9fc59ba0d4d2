/* SPDX-License-Identifier: GPL-2.0 */
/* vmx_hw.h - the VMX instructions, the CPU's VMX capabilities, VMX on/off per CPU. */
#ifndef DUNE_VMX_HW_H
#define DUNE_VMX_HW_H

#include <linux/percpu.h>
#include <linux/types.h>
#include <asm/vmx.h>

/* What the CPU allows, read once at load; the controls every VMCS uses. */
struct dune_vmx_caps {
	u32 revision_id;
	u32 vmcs_size;
	u32 pin_based;
	u32 proc_based;
	u32 proc_based2;
	u32 exit_ctls;
	u32 entry_ctls;
	u64 ept_vpid_cap;
	u64 cr0_fixed0, cr0_fixed1;
	u64 cr4_fixed0, cr4_fixed1;
	bool invept_single; /* else only the global context type */
	u64 host_pat;
	u64 host_efer;
	u64 host_xcr0; /* 0 without XSAVE */
	/* The kernel's syscall entry MSRs: written alike on every CPU at boot, never changed. */
	u64 host_star, host_lstar, host_cstar, host_sfmask;
};

extern struct dune_vmx_caps dune_caps;

/* Turns VMX on on every online CPU; -EBUSY when another hypervisor holds it. */
int dune_vmx_enable_all(void);
void dune_vmx_disable_all(void);
/* VMX is on on this CPU (preemption off). */
bool dune_vmx_on_this_cpu(void);

/* The VMCS loaded on each CPU, so that one VMPTRLD is skipped when it is already there. */
DECLARE_PER_CPU(u64, dune_current_vmcs);

static inline u64 dune_vmread(unsigned long field)
{
	unsigned long value = 0;

	asm volatile("vmread %[field], %[value]"
		     : [value] "=rm"(value)
		     : [field] "r"(field)
		     : "cc");
	return value;
}

/* Returns false when the CPU refused (bad field, no current VMCS). */
static inline bool dune_vmwrite(unsigned long field, u64 value)
{
	bool failed;

	asm volatile("vmwrite %[value], %[field]\n\t"
		     "setbe %[failed]"
		     : [failed] "=qm"(failed)
		     : [field] "r"(field), [value] "rm"((unsigned long)value)
		     : "cc");
	return !failed;
}

static inline bool dune_vmptrld(u64 pa)
{
	bool failed;

	asm volatile("vmptrld %[pa]\n\tsetbe %[failed]"
		     : [failed] "=qm"(failed)
		     : [pa] "m"(pa)
		     : "cc", "memory");
	return !failed;
}

static inline bool dune_vmclear(u64 pa)
{
	bool failed;

	asm volatile("vmclear %[pa]\n\tsetbe %[failed]"
		     : [failed] "=qm"(failed)
		     : [pa] "m"(pa)
		     : "cc", "memory");
	return !failed;
}

/* Drops this CPU's cached EPT translations for one EPT root (or all). */
void dune_invept(u64 eptp);

/* Enters the guest: 0 after a VM exit, 1 when VMLAUNCH/VMRESUME failed. */
struct dune_gprs;
int dune_vmx_run(struct dune_gprs *regs, int launched);

#endif
