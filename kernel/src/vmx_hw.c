// SPDX-License-Identifier: GPL-2.0
/* vmx_hw.c - VMX capabilities and VMXON/VMXOFF on every CPU. */
#include <linux/cpu.h>
#include <linux/gfp.h>
#include <linux/mm.h>
#include <linux/smp.h>
#include <linux/io.h>
#include <asm/fpu/xcr.h>
#include <asm/msr.h>
#include <asm/reboot.h>
#include <asm/tlbflush.h>

#include "vmx_hw.h"

struct dune_vmx_caps dune_caps;
DEFINE_PER_CPU(u64, dune_current_vmcs);

static DEFINE_PER_CPU(struct page *, vmxon_page);
static DEFINE_PER_CPU(bool, vmx_on);
static atomic_t enable_failed;

/* Bits `want` allowed by a capability MSR; fails if a bit of `must` is not. */
static int adjust_controls(u32 want, u32 must, u32 msr, u32 *out)
{
	u64 cap;
	u32 allowed0, allowed1, v;

	rdmsrl(msr, cap);
	allowed0 = (u32)cap;	     /* these bits must be 1 */
	allowed1 = (u32)(cap >> 32); /* only these bits may be 1 */
	v = (want | allowed0) & allowed1;
	if ((v & must) != must)
		return -EOPNOTSUPP;
	*out = v;
	return 0;
}

static int read_caps(void)
{
	struct dune_vmx_caps *c = &dune_caps;
	u64 basic;
	bool true_ctls;
	u32 pin_msr, proc_msr, exit_msr, entry_msr;
	u32 must;
	int r;

	rdmsrl(MSR_IA32_VMX_BASIC, basic);
	c->revision_id = (u32)basic & 0x7fffffff;
	c->vmcs_size = (basic >> 32) & 0x1fff;
	if (c->vmcs_size > PAGE_SIZE || ((basic >> 50) & 0xf) != 6)
		return -EOPNOTSUPP; /* a VMCS in one page, write-back memory */
	true_ctls = basic & (1ull << 55);
	pin_msr = true_ctls ? MSR_IA32_VMX_TRUE_PINBASED_CTLS : MSR_IA32_VMX_PINBASED_CTLS;
	proc_msr = true_ctls ? MSR_IA32_VMX_TRUE_PROCBASED_CTLS : MSR_IA32_VMX_PROCBASED_CTLS;
	exit_msr = true_ctls ? MSR_IA32_VMX_TRUE_EXIT_CTLS : MSR_IA32_VMX_EXIT_CTLS;
	entry_msr = true_ctls ? MSR_IA32_VMX_TRUE_ENTRY_CTLS : MSR_IA32_VMX_ENTRY_CTLS;

	/* Host interrupts and NMIs always leave the guest. */
	must = PIN_BASED_EXT_INTR_MASK | PIN_BASED_NMI_EXITING;
	r = adjust_controls(must, must, pin_msr, &c->pin_based);
	if (r)
		return r;
	/* Every port access exits (the hypercall), HLT exits, MSR accesses exit
	 * (an all-ones bitmap), MWAIT/MONITOR exit; CR3 accesses do not (EPT). */
	must = CPU_BASED_HLT_EXITING | CPU_BASED_UNCOND_IO_EXITING | CPU_BASED_USE_MSR_BITMAPS |
	       CPU_BASED_ACTIVATE_SECONDARY_CONTROLS;
	r = adjust_controls(must | CPU_BASED_MWAIT_EXITING | CPU_BASED_MONITOR_EXITING, must, proc_msr,
			    &c->proc_based);
	if (r)
		return r;
	/* RDTSCP must not #UD: the vDSO may use it. */
	must = SECONDARY_EXEC_ENABLE_EPT | SECONDARY_EXEC_ENABLE_RDTSCP;
	r = adjust_controls(must | SECONDARY_EXEC_ENABLE_INVPCID, must, MSR_IA32_VMX_PROCBASED_CTLS2,
			    &c->proc_based2);
	if (r)
		return r;
	must = VM_EXIT_HOST_ADDR_SPACE_SIZE | VM_EXIT_SAVE_IA32_EFER | VM_EXIT_LOAD_IA32_EFER;
	r = adjust_controls(must | VM_EXIT_SAVE_IA32_PAT | VM_EXIT_LOAD_IA32_PAT, must, exit_msr,
			    &c->exit_ctls);
	if (r)
		return r;
	c->exit_ctls &= ~VM_EXIT_ACK_INTR_ON_EXIT; /* the host takes its interrupts itself */
	must = VM_ENTRY_IA32E_MODE | VM_ENTRY_LOAD_IA32_EFER;
	r = adjust_controls(must | VM_ENTRY_LOAD_IA32_PAT, must, entry_msr, &c->entry_ctls);
	if (r)
		return r;

	rdmsrl(MSR_IA32_VMX_EPT_VPID_CAP, c->ept_vpid_cap);
	if (!(c->ept_vpid_cap & VMX_EPT_PAGE_WALK_4_BIT) || !(c->ept_vpid_cap & VMX_EPTP_WB_BIT) ||
	    !(c->ept_vpid_cap & VMX_EPT_INVEPT_BIT))
		return -EOPNOTSUPP;
	c->invept_single = c->ept_vpid_cap & VMX_EPT_EXTENT_CONTEXT_BIT;
	if (!c->invept_single && !(c->ept_vpid_cap & VMX_EPT_EXTENT_GLOBAL_BIT))
		return -EOPNOTSUPP;

	rdmsrl(MSR_IA32_VMX_CR0_FIXED0, c->cr0_fixed0);
	rdmsrl(MSR_IA32_VMX_CR0_FIXED1, c->cr0_fixed1);
	rdmsrl(MSR_IA32_VMX_CR4_FIXED0, c->cr4_fixed0);
	rdmsrl(MSR_IA32_VMX_CR4_FIXED1, c->cr4_fixed1);
	rdmsrl(MSR_IA32_CR_PAT, c->host_pat);
	rdmsrl(MSR_EFER, c->host_efer);
	rdmsrl(MSR_STAR, c->host_star);
	rdmsrl(MSR_LSTAR, c->host_lstar);
	rdmsrl(MSR_CSTAR, c->host_cstar);
	rdmsrl(MSR_SYSCALL_MASK, c->host_sfmask);
	c->host_xcr0 = boot_cpu_has(X86_FEATURE_OSXSAVE) ? xgetbv(XCR_XFEATURE_ENABLED_MASK) : 0;
	return 0;
}

static void vmx_on_cpu(void *unused)
{
	int cpu = smp_processor_id();
	struct page *page = per_cpu(vmxon_page, cpu);
	u64 fc, pa;
	bool failed;

	/* Another hypervisor (kvm_intel) owns VMX on this CPU. */
	if (__read_cr4() & X86_CR4_VMXE) {
		atomic_inc(&enable_failed);
		return;
	}
	rdmsrl(MSR_IA32_FEAT_CTL, fc);
	if (!(fc & FEAT_CTL_LOCKED)) {
		fc |= FEAT_CTL_LOCKED | FEAT_CTL_VMX_ENABLED_OUTSIDE_SMX;
		wrmsrl(MSR_IA32_FEAT_CTL, fc);
	}
	if (!(fc & FEAT_CTL_VMX_ENABLED_OUTSIDE_SMX)) {
		atomic_inc(&enable_failed);
		return;
	}
	*(u32 *)page_address(page) = dune_caps.revision_id;
	pa = page_to_phys(page);
	cr4_set_bits(X86_CR4_VMXE);
	asm volatile("vmxon %[pa]\n\tsetbe %[failed]"
		     : [failed] "=qm"(failed)
		     : [pa] "m"(pa)
		     : "cc", "memory");
	if (failed) {
		cr4_clear_bits(X86_CR4_VMXE);
		atomic_inc(&enable_failed);
		return;
	}
	per_cpu(dune_current_vmcs, cpu) = 0;
	per_cpu(vmx_on, cpu) = true;
}

static void vmx_off_cpu(void *unused)
{
	int cpu = smp_processor_id();

	if (!per_cpu(vmx_on, cpu))
		return;
	asm volatile("vmxoff" ::: "cc", "memory");
	cr4_clear_bits(X86_CR4_VMXE);
	per_cpu(vmx_on, cpu) = false;
	per_cpu(dune_current_vmcs, cpu) = 0;
}

/* A crash or an emergency reboot must leave VMX, or the next kernel cannot boot. */
static void emergency_vmxoff(void)
{
	if (this_cpu_read(vmx_on)) {
		asm volatile("vmxoff" ::: "cc", "memory");
		cr4_clear_bits(X86_CR4_VMXE);
		this_cpu_write(vmx_on, false);
	}
}

static void free_vmxon_pages(void)
{
	int cpu;

	for_each_possible_cpu(cpu) {
		if (per_cpu(vmxon_page, cpu))
			__free_page(per_cpu(vmxon_page, cpu));
		per_cpu(vmxon_page, cpu) = NULL;
	}
}

bool dune_vmx_on_this_cpu(void)
{
	return this_cpu_read(vmx_on);
}

int dune_vmx_enable_all(void)
{
	int cpu, r;

	if (!boot_cpu_has(X86_FEATURE_VMX))
		return -ENODEV;
	r = read_caps();
	if (r)
		return r;
	for_each_possible_cpu(cpu) {
		struct page *p = alloc_pages_node(cpu_to_node(cpu), GFP_KERNEL | __GFP_ZERO, 0);

		if (!p) {
			free_vmxon_pages();
			return -ENOMEM;
		}
		per_cpu(vmxon_page, cpu) = p;
	}
	cpu_emergency_register_virt_callback(emergency_vmxoff);
	cpus_read_lock();
	atomic_set(&enable_failed, 0);
	on_each_cpu(vmx_on_cpu, NULL, 1);
	cpus_read_unlock();
	if (atomic_read(&enable_failed)) {
		dune_vmx_disable_all();
		return -EBUSY;
	}
	return 0;
}

void dune_vmx_disable_all(void)
{
	cpus_read_lock();
	on_each_cpu(vmx_off_cpu, NULL, 1);
	cpus_read_unlock();
	cpu_emergency_unregister_virt_callback(emergency_vmxoff);
	free_vmxon_pages();
}

void dune_invept(u64 eptp)
{
	struct {
		u64 eptp, reserved;
	} desc = { eptp, 0 };
	unsigned long type = dune_caps.invept_single ? VMX_EPT_EXTENT_CONTEXT : VMX_EPT_EXTENT_GLOBAL;

	if (!this_cpu_read(vmx_on))
		return;
	asm volatile("invept %[desc], %[type]" : : [desc] "m"(desc), [type] "r"(type) : "cc", "memory");
}
