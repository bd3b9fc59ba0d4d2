// SPDX-License-Identifier: GPL-2.0
/* dune_vcpu.c - a vCPU: its making and freeing, its VMCS set-up and its guest state. */
#include <linux/err.h>
#include <linux/mm.h>
#include <linux/module.h>
#include <linux/sched.h>
#include <linux/slab.h>
#include <linux/smp.h>
#include <linux/uaccess.h>
#include <asm/cpu_entry_area.h>
#include <asm/desc.h>
#include <asm/msr.h>
#include <asm/fpu/xcr.h>
#include <asm/fpu/xstate.h>
#include <asm/special_insns.h>

#include "dune_vcpu.h"
#include "vmx_hw.h"

/* Every MSR access from the guest exits (and faults): one all-ones bitmap for all vCPUs. */
static void *msr_bitmap;

int dune_vcpu_module_init(void)
{
	msr_bitmap = (void *)__get_free_page(GFP_KERNEL);
	if (!msr_bitmap)
		return -ENOMEM;
	memset(msr_bitmap, 0xff, PAGE_SIZE);
	return 0;
}

void dune_vcpu_module_exit(void)
{
	free_page((unsigned long)msr_bitmap);
}

static inline bool is_canonical(u64 v)
{
	return (u64)(((s64)v << 16) >> 16) == v;
}

/* The host state that depends on the CPU the VMCS is loaded on. */
static void write_host_cpu_state(int cpu)
{
	struct desc_ptr gdt;
	u64 v;

	native_store_gdt(&gdt);
	dune_vmwrite(HOST_GDTR_BASE, gdt.address);
	dune_vmwrite(HOST_TR_BASE, (unsigned long)&get_cpu_entry_area(cpu)->tss.x86_tss);
	rdmsrl(MSR_GS_BASE, v);
	dune_vmwrite(HOST_GS_BASE, v);
	rdmsrl(MSR_IA32_SYSENTER_ESP, v);
	dune_vmwrite(HOST_IA32_SYSENTER_ESP, v);
}

static void clear_on_cpu(void *data)
{
	struct dune_vcpu *v = data;

	dune_vmclear(v->vmcs_pa);
	if (this_cpu_read(dune_current_vmcs) == v->vmcs_pa)
		this_cpu_write(dune_current_vmcs, 0);
}

int dune_vcpu_load(struct dune_vcpu *v)
{
	int cpu;

	preempt_disable();
	cpu = smp_processor_id();
	if (!dune_vmx_on_this_cpu()) {
		preempt_enable();
		return -EBUSY; /* a CPU brought online after the module loaded */
	}
	if (v->cpu != cpu) {
		/* A VMCS may be active on one CPU only: clear it where it was. */
		if (v->cpu >= 0)
			smp_call_function_single(v->cpu, clear_on_cpu, v, 1);
		v->launched = false;
		if (!dune_vmptrld(v->vmcs_pa)) {
			v->cpu = -1;
			preempt_enable();
			return -EIO;
		}
		this_cpu_write(dune_current_vmcs, v->vmcs_pa);
		v->cpu = cpu;
		write_host_cpu_state(cpu);
	} else if (this_cpu_read(dune_current_vmcs) != v->vmcs_pa) {
		if (!dune_vmptrld(v->vmcs_pa)) {
			preempt_enable();
			return -EIO;
		}
		this_cpu_write(dune_current_vmcs, v->vmcs_pa);
	}
	return 0;
}

void dune_vcpu_put(struct dune_vcpu *v)
{
	preempt_enable();
}

static void setup_vmcs(struct dune_vcpu *v)
{
	struct desc_ptr idt;
	u64 v64;

	dune_vmwrite(PIN_BASED_VM_EXEC_CONTROL, dune_caps.pin_based);
	dune_vmwrite(CPU_BASED_VM_EXEC_CONTROL, dune_caps.proc_based);
	dune_vmwrite(SECONDARY_VM_EXEC_CONTROL, dune_caps.proc_based2);
	dune_vmwrite(VM_EXIT_CONTROLS, dune_caps.exit_ctls);
	dune_vmwrite(VM_ENTRY_CONTROLS, dune_caps.entry_ctls);
	dune_vmwrite(EXCEPTION_BITMAP, 0);
	dune_vmwrite(PAGE_FAULT_ERROR_CODE_MASK, 0);
	dune_vmwrite(PAGE_FAULT_ERROR_CODE_MATCH, 0);
	dune_vmwrite(CR3_TARGET_COUNT, 0);
	dune_vmwrite(VM_EXIT_MSR_STORE_COUNT, 0);
	dune_vmwrite(VM_EXIT_MSR_LOAD_COUNT, 0);
	dune_vmwrite(VM_ENTRY_MSR_LOAD_COUNT, 0);
	dune_vmwrite(VM_ENTRY_INTR_INFO_FIELD, 0);
	dune_vmwrite(MSR_BITMAP, __pa(msr_bitmap));
	dune_vmwrite(TSC_OFFSET, 0);
	dune_vmwrite(EPT_POINTER, v->vm->eptp);
	dune_vmwrite(VMCS_LINK_POINTER, ~0ull);
	/* The guest sees its own CR0/CR4 through the shadows; writing them exits. */
	dune_vmwrite(CR0_GUEST_HOST_MASK, ~0ul);
	dune_vmwrite(CR4_GUEST_HOST_MASK, ~0ul);

	dune_vmwrite(HOST_CR0, read_cr0());
	dune_vmwrite(HOST_CS_SELECTOR, __KERNEL_CS);
	dune_vmwrite(HOST_SS_SELECTOR, __KERNEL_DS);
	dune_vmwrite(HOST_DS_SELECTOR, 0);
	dune_vmwrite(HOST_ES_SELECTOR, 0);
	dune_vmwrite(HOST_FS_SELECTOR, 0);
	dune_vmwrite(HOST_GS_SELECTOR, 0);
	dune_vmwrite(HOST_TR_SELECTOR, GDT_ENTRY_TSS * 8);
	store_idt(&idt);
	dune_vmwrite(HOST_IDTR_BASE, idt.address);
	rdmsrl(MSR_IA32_SYSENTER_CS, v64);
	dune_vmwrite(HOST_IA32_SYSENTER_CS, v64);
	rdmsrl(MSR_IA32_SYSENTER_EIP, v64);
	dune_vmwrite(HOST_IA32_SYSENTER_EIP, v64);
	dune_vmwrite(HOST_IA32_PAT, dune_caps.host_pat);
	dune_vmwrite(HOST_IA32_EFER, dune_caps.host_efer);

	dune_vmwrite(GUEST_DR7, 0x400);
	dune_vmwrite(GUEST_IA32_DEBUGCTL, 0);
	dune_vmwrite(GUEST_INTERRUPTIBILITY_INFO, 0);
	dune_vmwrite(GUEST_ACTIVITY_STATE, 0);
	dune_vmwrite(GUEST_PENDING_DBG_EXCEPTIONS, 0);
	dune_vmwrite(GUEST_SYSENTER_CS, 0);
	dune_vmwrite(GUEST_SYSENTER_ESP, 0);
	dune_vmwrite(GUEST_SYSENTER_EIP, 0);
	dune_vmwrite(GUEST_IA32_PAT, dune_caps.host_pat);
	dune_vmwrite(GUEST_IA32_EFER, EFER_SCE | EFER_LME | EFER_LMA | (dune_caps.host_efer & EFER_NX));
	dune_vmwrite(GUEST_LDTR_SELECTOR, 0);
	dune_vmwrite(GUEST_LDTR_AR_BYTES, 1u << 16);
}

/* Segment fields, in the order kvm_sregs and the VMCS both name them. */
struct seg_fields {
	u32 selector, base, limit, ar;
};
#define SEG(name) { GUEST_##name##_SELECTOR, GUEST_##name##_BASE, GUEST_##name##_LIMIT, GUEST_##name##_AR_BYTES }
static const struct seg_fields seg_cs = SEG(CS), seg_ds = SEG(DS), seg_es = SEG(ES), seg_fs = SEG(FS),
				 seg_gs = SEG(GS), seg_ss = SEG(SS), seg_tr = SEG(TR), seg_ldt = SEG(LDTR);

static void write_segment(const struct seg_fields *f, const struct kvm_segment *s)
{
	u32 ar;

	if (s->unusable || !s->present) {
		ar = 1u << 16;
	} else {
		ar = (s->type & 15) | (s->s & 1) << 4 | (s->dpl & 3) << 5 | (s->present & 1) << 7 |
		     (s->avl & 1) << 12 | (s->l & 1) << 13 | (s->db & 1) << 14 | (s->g & 1) << 15;
	}
	dune_vmwrite(f->selector, s->selector);
	dune_vmwrite(f->base, s->base);
	dune_vmwrite(f->limit, s->limit);
	dune_vmwrite(f->ar, ar);
}

static void read_segment(const struct seg_fields *f, struct kvm_segment *s)
{
	u32 ar = dune_vmread(f->ar);

	memset(s, 0, sizeof(*s));
	s->selector = dune_vmread(f->selector);
	s->base = dune_vmread(f->base);
	s->limit = dune_vmread(f->limit);
	s->unusable = (ar >> 16) & 1;
	s->type = ar & 15;
	s->s = (ar >> 4) & 1;
	s->dpl = (ar >> 5) & 3;
	s->present = !s->unusable && ((ar >> 7) & 1);
	s->avl = (ar >> 12) & 1;
	s->l = (ar >> 13) & 1;
	s->db = (ar >> 14) & 1;
	s->g = (ar >> 15) & 1;
}

int dune_vcpu_get_sregs(struct dune_vcpu *v, struct kvm_sregs *s)
{
	int r = dune_vcpu_load(v);

	if (r)
		return r;
	memset(s, 0, sizeof(*s));
	read_segment(&seg_cs, &s->cs);
	read_segment(&seg_ds, &s->ds);
	read_segment(&seg_es, &s->es);
	read_segment(&seg_fs, &s->fs);
	read_segment(&seg_gs, &s->gs);
	read_segment(&seg_ss, &s->ss);
	read_segment(&seg_tr, &s->tr);
	read_segment(&seg_ldt, &s->ldt);
	s->gdt.base = dune_vmread(GUEST_GDTR_BASE);
	s->gdt.limit = dune_vmread(GUEST_GDTR_LIMIT);
	s->idt.base = dune_vmread(GUEST_IDTR_BASE);
	s->idt.limit = dune_vmread(GUEST_IDTR_LIMIT);
	s->cr0 = dune_vmread(CR0_READ_SHADOW);
	s->cr3 = dune_vmread(GUEST_CR3);
	s->cr4 = dune_vmread(CR4_READ_SHADOW);
	s->efer = dune_vmread(GUEST_IA32_EFER);
	dune_vcpu_put(v);
	s->cr2 = v->cr2;
	s->apic_base = 0xfee00000ull | (1ull << 11) | (1ull << 8);
	return 0;
}

static int check_sregs(const struct kvm_sregs *s)
{
	u64 efer_ok = EFER_SCE | EFER_LME | EFER_LMA | (dune_caps.host_efer & EFER_NX);

	if (!(s->cr0 & X86_CR0_PE) || !(s->cr0 & X86_CR0_PG) || (s->cr0 & ~dune_caps.cr0_fixed1))
		return -EINVAL;
	if (!(s->cr4 & X86_CR4_PAE) || (s->cr4 & ~dune_caps.cr4_fixed1))
		return -EINVAL;
	if ((s->efer & ~efer_ok) || (s->efer & (EFER_LME | EFER_LMA)) != (EFER_LME | EFER_LMA))
		return -EINVAL;
	if ((s->cr3 & ~(u64)0xfff) >> dune_vm_phys_bits())
		return -EINVAL;
	if (!is_canonical(s->gdt.base) || !is_canonical(s->idt.base) || !is_canonical(s->fs.base) ||
	    !is_canonical(s->gs.base) || !is_canonical(s->tr.base) || !is_canonical(s->ldt.base))
		return -EINVAL;
	return 0;
}

int dune_vcpu_set_sregs(struct dune_vcpu *v, const struct kvm_sregs *s)
{
	int r = check_sregs(s);

	if (r)
		return r;
	r = dune_vcpu_load(v);
	if (r)
		return r;
	write_segment(&seg_cs, &s->cs);
	write_segment(&seg_ds, &s->ds);
	write_segment(&seg_es, &s->es);
	write_segment(&seg_fs, &s->fs);
	write_segment(&seg_gs, &s->gs);
	write_segment(&seg_ss, &s->ss);
	write_segment(&seg_tr, &s->tr);
	write_segment(&seg_ldt, &s->ldt);
	dune_vmwrite(GUEST_GDTR_BASE, s->gdt.base);
	dune_vmwrite(GUEST_GDTR_LIMIT, s->gdt.limit);
	dune_vmwrite(GUEST_IDTR_BASE, s->idt.base);
	dune_vmwrite(GUEST_IDTR_LIMIT, s->idt.limit);
	/* The CPU needs the VMX-fixed bits (CR0.NE, CR4.VMXE); the guest reads what it asked for. */
	dune_vmwrite(GUEST_CR0, (s->cr0 | dune_caps.cr0_fixed0) & dune_caps.cr0_fixed1);
	dune_vmwrite(CR0_READ_SHADOW, s->cr0);
	dune_vmwrite(GUEST_CR4, (s->cr4 | dune_caps.cr4_fixed0) & dune_caps.cr4_fixed1);
	dune_vmwrite(CR4_READ_SHADOW, s->cr4);
	dune_vmwrite(GUEST_CR3, s->cr3);
	dune_vmwrite(GUEST_IA32_EFER, s->efer);
	dune_vcpu_put(v);
	v->cr2 = s->cr2;
	return 0;
}

void dune_vcpu_get_regs(struct dune_vcpu *v, struct kvm_regs *r)
{
	const struct dune_gprs *g = &v->gprs;

	r->rax = g->rax; r->rbx = g->rbx; r->rcx = g->rcx; r->rdx = g->rdx;
	r->rsi = g->rsi; r->rdi = g->rdi; r->rbp = g->rbp; r->rsp = v->rsp;
	r->r8 = g->r8; r->r9 = g->r9; r->r10 = g->r10; r->r11 = g->r11;
	r->r12 = g->r12; r->r13 = g->r13; r->r14 = g->r14; r->r15 = g->r15;
	r->rip = v->rip;
	r->rflags = v->rflags;
}

int dune_vcpu_set_regs(struct dune_vcpu *v, const struct kvm_regs *r)
{
	struct dune_gprs *g = &v->gprs;

	if (r->rflags & ~(DUNE_RFLAGS_ALLOWED | DUNE_RFLAGS_FIXED))
		return -EINVAL;
	g->rax = r->rax; g->rbx = r->rbx; g->rcx = r->rcx; g->rdx = r->rdx;
	g->rsi = r->rsi; g->rdi = r->rdi; g->rbp = r->rbp;
	g->r8 = r->r8; g->r9 = r->r9; g->r10 = r->r10; g->r11 = r->r11;
	g->r12 = r->r12; g->r13 = r->r13; g->r14 = r->r14; g->r15 = r->r15;
	/* A new RIP abandons an event whose delivery the last exit interrupted. */
	if (r->rip != v->rip)
		v->inject_info = 0;
	v->rsp = r->rsp;
	v->rip = r->rip;
	v->rflags = r->rflags | DUNE_RFLAGS_FIXED;
	v->regs_dirty = true;
	return 0;
}

static bool pat_valid(u64 pat)
{
	int i;

	for (i = 0; i < 8; i++) {
		u8 t = (pat >> (8 * i)) & 0xff;

		if (t != 0 && t != 1 && t != 4 && t != 5 && t != 6 && t != 7)
			return false;
	}
	return true;
}

/* One MSR; -EINVAL for an MSR the guest does not have or a value it may not hold. */
static int access_msr(struct dune_vcpu *v, u32 index, u64 *value, bool write)
{
	u64 *slot = NULL;
	u32 field = 0;
	int r;

	switch (index) {
	case MSR_KERNEL_GS_BASE: slot = &v->msrs.kernel_gs_base; break;
	case MSR_STAR: slot = &v->msrs.star; break;
	case MSR_LSTAR: slot = &v->msrs.lstar; break;
	case MSR_CSTAR: slot = &v->msrs.cstar; break;
	case MSR_SYSCALL_MASK: slot = &v->msrs.sfmask; break;
	case MSR_FS_BASE: field = GUEST_FS_BASE; break;
	case MSR_GS_BASE: field = GUEST_GS_BASE; break;
	case MSR_IA32_CR_PAT: field = GUEST_IA32_PAT; break;
	case MSR_TSC_AUX:
		/* The guest reads the host CPU's own value (the vDSO's CPU number). */
		if (!write)
			*value = 0;
		return 0;
	default:
		return -EINVAL;
	}
	if (write) {
		/* These are loaded into the host CPU around each entry: a bad value would fault there. */
		if ((index == MSR_KERNEL_GS_BASE || index == MSR_LSTAR || index == MSR_CSTAR ||
		     index == MSR_FS_BASE || index == MSR_GS_BASE) && !is_canonical(*value))
			return -EINVAL;
		if (index == MSR_SYSCALL_MASK && (*value >> 32))
			return -EINVAL;
		if (index == MSR_IA32_CR_PAT && !pat_valid(*value))
			return -EINVAL;
	}
	if (slot) {
		if (write)
			*slot = *value;
		else
			*value = *slot;
		return 0;
	}
	r = dune_vcpu_load(v);
	if (r)
		return r;
	if (write)
		dune_vmwrite(field, *value);
	else
		*value = dune_vmread(field);
	dune_vcpu_put(v);
	return 0;
}

long dune_vcpu_msrs_ioctl(struct dune_vcpu *v, void __user *arg, bool write)
{
	struct kvm_msrs __user *user = arg;
	struct kvm_msrs head;
	struct kvm_msr_entry e;
	u32 i;

	if (copy_from_user(&head, user, sizeof(head)))
		return -EFAULT;
	if (head.nmsrs > DUNE_MAX_MSRS)
		return -E2BIG;
	for (i = 0; i < head.nmsrs; i++) {
		if (copy_from_user(&e, &user->entries[i], sizeof(e)))
			return -EFAULT;
		if (access_msr(v, e.index, &e.data, write))
			break; /* like KVM: the count says how far it got */
		if (!write && copy_to_user(&user->entries[i], &e, sizeof(e)))
			return -EFAULT;
	}
	return i;
}

/* Architectural rules for XCR0, and nothing the host has not enabled. */
static bool xcr0_valid(u64 x)
{
	const u64 avx512 = XFEATURE_MASK_OPMASK | XFEATURE_MASK_ZMM_Hi256 | XFEATURE_MASK_Hi16_ZMM;
	const u64 mpx = XFEATURE_MASK_BNDREGS | XFEATURE_MASK_BNDCSR;
	const u64 amx = XFEATURE_MASK_XTILE_CFG | XFEATURE_MASK_XTILE_DATA;

	if (!dune_caps.host_xcr0 || (x & ~dune_caps.host_xcr0) || !(x & XFEATURE_MASK_FP))
		return false;
	if ((x & XFEATURE_MASK_YMM) && !(x & XFEATURE_MASK_SSE))
		return false;
	if ((x & avx512) && ((x & avx512) != avx512 || !(x & XFEATURE_MASK_YMM)))
		return false;
	if ((x & mpx) && (x & mpx) != mpx)
		return false;
	/* Dynamic (XFD) state is not in the guest's FPU buffer. */
	if (x & amx)
		return false;
	return true;
}

long dune_vcpu_set_xcrs(struct dune_vcpu *v, void __user *arg)
{
	struct kvm_xcrs x;
	u32 i;

	if (copy_from_user(&x, arg, sizeof(x)))
		return -EFAULT;
	if (x.nr_xcrs > KVM_MAX_XCRS || x.flags)
		return -EINVAL;
	for (i = 0; i < x.nr_xcrs; i++)
		if (x.xcrs[i].xcr != XCR_XFEATURE_ENABLED_MASK || !xcr0_valid(x.xcrs[i].value))
			return -EINVAL;
	for (i = 0; i < x.nr_xcrs; i++)
		v->xcr0 = x.xcrs[i].value;
	return 0;
}

long dune_vcpu_xsave_ioctl(struct dune_vcpu *v, void __user *arg, bool write)
{
	struct kvm_xsave *buf = kzalloc(sizeof(*buf), GFP_KERNEL_ACCOUNT);
	long r = 0;
	u32 pkru = 0;

	if (!buf)
		return -ENOMEM;
	if (write) {
		if (copy_from_user(buf, arg, sizeof(*buf)))
			r = -EFAULT;
		else
			r = fpu_copy_uabi_to_guest_fpstate(&v->fpu, buf->region,
							   dune_caps.host_xcr0 ? dune_caps.host_xcr0 : XFEATURE_MASK_FPSSE,
							   &pkru);
	} else {
		fpu_copy_guest_fpstate_to_uabi(&v->fpu, buf->region, sizeof(buf->region),
					       dune_caps.host_xcr0 | XFEATURE_MASK_FPSSE, 0);
		if (copy_to_user(arg, buf, sizeof(*buf)))
			r = -EFAULT;
	}
	kfree(buf);
	return r;
}

void dune_vcpu_free(struct dune_vcpu *v)
{
	if (v->vmcs) {
		int cpu = v->cpu;

		if (cpu >= 0)
			smp_call_function_single(cpu, clear_on_cpu, v, 1);
		free_page((unsigned long)v->vmcs);
	}
	if (v->fpu.fpstate)
		fpu_free_guest_fpstate(&v->fpu);
	if (v->run)
		free_page((unsigned long)v->run);
	dune_ept_cache_free(&v->ept_cache);
	dune_vm_put(v->vm);
	kfree(v);
}

struct dune_vcpu *dune_vcpu_create(struct dune_vm *vm)
{
	struct dune_vcpu *v = kzalloc(sizeof(*v), GFP_KERNEL_ACCOUNT);
	int r;

	if (!v)
		return ERR_PTR(-ENOMEM);
	dune_vm_get(vm);
	v->vm = vm;
	v->cpu = -1;
	mutex_init(&v->lock);
	v->rflags = DUNE_RFLAGS_FIXED;
	v->regs_dirty = true;
	v->xcr0 = dune_caps.host_xcr0 ? XFEATURE_MASK_FP : 0;
	v->run = (struct kvm_run *)get_zeroed_page(GFP_KERNEL_ACCOUNT);
	v->vmcs = (void *)get_zeroed_page(GFP_KERNEL_ACCOUNT);
	if (!v->run || !v->vmcs || !fpu_alloc_guest_fpstate(&v->fpu)) {
		r = -ENOMEM;
		goto fail;
	}
	*(u32 *)v->vmcs = dune_caps.revision_id;
	v->vmcs_pa = __pa(v->vmcs);
	/* VMCLEAR initializes a new VMCS region (its launch state) before any VMPTRLD. */
	preempt_disable();
	r = dune_vmx_on_this_cpu() && dune_vmclear(v->vmcs_pa) ? 0 : -EIO;
	preempt_enable();
	if (!r)
		r = dune_vcpu_load(v);
	if (r)
		goto fail;
	setup_vmcs(v);
	dune_vcpu_put(v);
	return v;
fail:
	dune_vcpu_free(v);
	return ERR_PTR(r);
}
