// SPDX-License-Identifier: GPL-2.0
/* vcpu_run.c - DUNE_RUN: enter the guest until something needs user space, and handle the exits. */
#include <linux/sched.h>
#include <linux/sched/signal.h>
#include <linux/task_work.h>
#include <linux/vtime.h>
#include <asm/debugreg.h>
#include <asm/desc.h>
#include <asm/fpu/api.h>
#include <asm/fpu/xcr.h>
#include <asm/msr.h>
#include <asm/processor.h>
#include <asm/special_insns.h>
#include <asm/trapnr.h>

#include "dune_vcpu.h"
#include "fast_syscalls.h"
#include "vcpu_run.h"
#include "vmx_hw.h"

static_assert(ALIGN(sizeof(struct kvm_run), 64) + 8 <= PAGE_SIZE, "the I/O data fits in the run page");

enum exit_action {
	EXIT_RESUME,  /* handled here: enter again */
	EXIT_TO_USER, /* run page filled: DUNE_RUN returns 0 */
	EXIT_FAULT,   /* memory fault: DUNE_RUN returns -EFAULT */
};

/* Host state a VM exit loses or the guest's MSRs displace. */
struct host_state {
	u16 ds, es, ldt;
	unsigned long dr7;
	u64 debugctl;
	u64 kernel_gs_base;
};

/* The guest's XCR0 differs from the host's and must be switched around the entry. */
static bool xcr0_switched(const struct dune_vcpu *v)
{
	return dune_caps.host_xcr0 && v->xcr0 != dune_caps.host_xcr0;
}

static void inject(struct dune_vcpu *v, u32 vector, bool has_error, u32 error)
{
	v->inject_info = vector | INTR_TYPE_HARD_EXCEPTION | INTR_INFO_VALID_MASK |
			 (has_error ? INTR_INFO_DELIVER_CODE_MASK : 0);
	v->inject_error = error;
	v->inject_len = 0;
}

static void skip_instruction(struct dune_vcpu *v)
{
	v->rip += v->exit.instr_len;
	v->regs_dirty = true;
}

static u64 *gpr(struct dune_vcpu *v, unsigned int index)
{
	return &((u64 *)&v->gprs)[index & 15];
}

static void swap_in(struct dune_vcpu *v, struct host_state *h)
{
	savesegment(ds, h->ds);
	savesegment(es, h->es);
	asm volatile("sldt %0" : "=r"(h->ldt));
	get_debugreg(h->dr7, 7);
	rdmsrl(MSR_IA32_DEBUGCTLMSR, h->debugctl);
	rdmsrl(MSR_KERNEL_GS_BASE, h->kernel_gs_base);
	wrmsrl(MSR_KERNEL_GS_BASE, v->msrs.kernel_gs_base);
	wrmsrl(MSR_STAR, v->msrs.star);
	wrmsrl(MSR_LSTAR, v->msrs.lstar);
	wrmsrl(MSR_CSTAR, v->msrs.cstar);
	wrmsrl(MSR_SYSCALL_MASK, v->msrs.sfmask);
	if (xcr0_switched(v))
		xsetbv(XCR_XFEATURE_ENABLED_MASK, v->xcr0);
	if (native_read_cr2() != v->cr2)
		native_write_cr2(v->cr2);
}

static void swap_out(struct dune_vcpu *v, struct host_state *h)
{
	v->cr2 = native_read_cr2();
	if (xcr0_switched(v))
		xsetbv(XCR_XFEATURE_ENABLED_MASK, dune_caps.host_xcr0);
	rdmsrl(MSR_KERNEL_GS_BASE, v->msrs.kernel_gs_base);
	wrmsrl(MSR_KERNEL_GS_BASE, h->kernel_gs_base);
	wrmsrl(MSR_STAR, dune_caps.host_star);
	wrmsrl(MSR_LSTAR, dune_caps.host_lstar);
	wrmsrl(MSR_CSTAR, dune_caps.host_cstar);
	wrmsrl(MSR_SYSCALL_MASK, dune_caps.host_sfmask);
	/* A VM exit clears DR7 and DEBUGCTL, loads null DS/ES/LDTR and cuts the GDT and TSS limits. */
	if (h->debugctl)
		wrmsrl(MSR_IA32_DEBUGCTLMSR, h->debugctl);
	if (h->dr7 != 0x400)
		set_debugreg(h->dr7, 7);
	if (h->ds)
		loadsegment(ds, h->ds);
	if (h->es)
		loadsegment(es, h->es);
	if (h->ldt)
		asm volatile("lldt %0" : : "r"(h->ldt));
	load_fixmap_gdt(smp_processor_id());
	invalidate_tss_limit();
}

static void read_exit_info(struct dune_vcpu *v)
{
	struct dune_exit_info *e = &v->exit;

	e->reason = dune_vmread(VM_EXIT_REASON);
	e->qualification = dune_vmread(EXIT_QUALIFICATION);
	e->intr_info = dune_vmread(VM_EXIT_INTR_INFO);
	e->vectoring_info = dune_vmread(IDT_VECTORING_INFO_FIELD);
	e->vectoring_error = dune_vmread(IDT_VECTORING_ERROR_CODE);
	e->instr_len = dune_vmread(VM_EXIT_INSTRUCTION_LEN);
	e->gpa = dune_vmread(GUEST_PHYSICAL_ADDRESS);
	v->rip = dune_vmread(GUEST_RIP);
	v->rsp = dune_vmread(GUEST_RSP);
	v->rflags = dune_vmread(GUEST_RFLAGS);
}

/* The host fields that may differ at each entry (another task's CR3 after a switch, the FS base). */
static void write_host_entry_state(struct dune_vcpu *v)
{
	u64 cr3 = __read_cr3(), cr4 = __read_cr4(), fs;

	rdmsrl(MSR_FS_BASE, fs);
	if (cr3 != v->host_cr3) {
		dune_vmwrite(HOST_CR3, cr3);
		v->host_cr3 = cr3;
	}
	if (cr4 != v->host_cr4) {
		dune_vmwrite(HOST_CR4, cr4);
		v->host_cr4 = cr4;
	}
	if (fs != v->host_fs_base) {
		dune_vmwrite(HOST_FS_BASE, fs);
		v->host_fs_base = fs;
	}
}

static void write_guest_entry_state(struct dune_vcpu *v)
{
	if (v->regs_dirty) {
		dune_vmwrite(GUEST_RIP, v->rip);
		dune_vmwrite(GUEST_RSP, v->rsp);
		dune_vmwrite(GUEST_RFLAGS, v->rflags);
		v->regs_dirty = false;
	}
	if (v->inject_info) {
		dune_vmwrite(VM_ENTRY_INTR_INFO_FIELD, v->inject_info);
		dune_vmwrite(VM_ENTRY_EXCEPTION_ERROR_CODE, v->inject_error);
		dune_vmwrite(VM_ENTRY_INSTRUCTION_LEN, v->inject_len);
		v->inject_info = 0;
	}
}

/* An event the exit interrupted (a #PF whose IDT or stack page was not in the EPT yet) is delivered again. */
static void requeue_interrupted_event(struct dune_vcpu *v)
{
	u32 info = v->exit.vectoring_info;
	u32 type = info & INTR_INFO_INTR_TYPE_MASK;

	if (!(info & VECTORING_INFO_VALID_MASK))
		return;
	v->inject_info = info & (INTR_INFO_VECTOR_MASK | INTR_INFO_INTR_TYPE_MASK |
				 INTR_INFO_DELIVER_CODE_MASK | INTR_INFO_VALID_MASK);
	v->inject_error = v->exit.vectoring_error;
	v->inject_len = (type == INTR_TYPE_SOFT_INTR || type == INTR_TYPE_SOFT_EXCEPTION ||
			 type == INTR_TYPE_PRIV_SW_EXCEPTION) ? v->exit.instr_len : 0;
}

static int exit_to_user(struct dune_vcpu *v, u32 reason)
{
	v->run->exit_reason = reason;
	return EXIT_TO_USER;
}

/* Where the data of an `in`/`out` sits in the run page: the module's constant, never the page's
 * data_offset field, which user space can overwrite. */
#define IO_DATA_OFFSET ALIGN(sizeof(struct kvm_run), 64)

static int handle_io(struct dune_vcpu *v)
{
	u64 q = v->exit.qualification;
	struct kvm_run *run = v->run;
	u32 size = (q & 7) + 1;
	u32 offset = IO_DATA_OFFSET;

	if ((q & (1u << 4)) || (size != 1 && size != 2 && size != 4)) {
		/* String I/O is nothing libdune does. */
		run->internal.suberror = EXIT_REASON_IO_INSTRUCTION;
		run->internal.ndata = 0;
		return exit_to_user(v, KVM_EXIT_INTERNAL_ERROR);
	}
	if (!(q & (1u << 3)) && size == 1 && (q >> 16) == READ_ONCE(v->vm->fast_port) &&
	    dune_fast_syscall(v)) {
		skip_instruction(v);
		return EXIT_RESUME;
	}
	run->io.direction = (q & (1u << 3)) ? KVM_EXIT_IO_IN : KVM_EXIT_IO_OUT;
	run->io.size = size;
	run->io.port = q >> 16;
	run->io.count = 1;
	run->io.data_offset = offset;
	if (run->io.direction == KVM_EXIT_IO_OUT)
		memcpy((u8 *)run + offset, &v->gprs.rax, size);
	/* RIP stays at the instruction until the next run, as KVM on VT-x leaves it. */
	v->io_pending = true;
	v->io_in = run->io.direction == KVM_EXIT_IO_IN;
	v->io_size = size;
	v->io_len = v->exit.instr_len;
	v->io_rip = v->rip;
	return exit_to_user(v, KVM_EXIT_IO);
}

/* User space answered an `in` or left the `out` alone: step over it, as the CPU would have. */
static void finish_io(struct dune_vcpu *v)
{
	if (!v->io_pending)
		return;
	v->io_pending = false;
	if (v->rip != v->io_rip)
		return;
	if (v->io_in)
		memcpy(&v->gprs.rax, (u8 *)v->run + IO_DATA_OFFSET, v->io_size);
	v->rip += v->io_len;
	v->regs_dirty = true;
}

static int handle_cpuid(struct dune_vcpu *v)
{
	u32 a = v->gprs.rax, b, c = v->gprs.rcx, d;

	cpuid_count(a, c, &a, &b, &c, &d);
	if (v->gprs.rax == 1)
		c &= ~(1u << 5); /* no VMX inside */
	v->gprs.rax = a;
	v->gprs.rbx = b;
	v->gprs.rcx = c;
	v->gprs.rdx = d;
	skip_instruction(v);
	return EXIT_RESUME;
}

/* MOV to or from CR3 (when the CPU insists on exiting for it); CR0/CR4 writes fault. */
static int handle_cr(struct dune_vcpu *v)
{
	u64 q = v->exit.qualification;
	u32 cr = q & 15, type = (q >> 4) & 3, reg = (q >> 8) & 15;
	int r;

	if (cr != 3 || type > 1 || reg == 4) {
		inject(v, X86_TRAP_GP, true, 0);
		return EXIT_RESUME;
	}
	r = dune_vcpu_load(v);
	if (r)
		return r;
	if (type == 0)
		dune_vmwrite(GUEST_CR3, *gpr(v, reg));
	else
		*gpr(v, reg) = dune_vmread(GUEST_CR3);
	dune_vcpu_put(v);
	skip_instruction(v);
	return EXIT_RESUME;
}

static int handle_ept_violation(struct dune_vcpu *v)
{
	struct dune_memory_fault *f = (struct dune_memory_fault *)&v->run->mmio;
	int r = dune_vm_ept_fault(v->vm, v->exit.gpa, v->exit.qualification, &v->ept_cache, f);

	if (r < 0)
		return r;
	if (r == 0)
		return EXIT_RESUME;
	v->run->exit_reason = DUNE_RUN_EXIT_MEMORY_FAULT;
	return EXIT_FAULT;
}

static int handle_exit(struct dune_vcpu *v)
{
	u32 reason = v->exit.reason;

	if (reason & VMX_EXIT_REASONS_FAILED_VMENTRY) {
		v->run->fail_entry.hardware_entry_failure_reason = reason & 0xffff;
		v->run->fail_entry.cpu = v->cpu;
		return exit_to_user(v, KVM_EXIT_FAIL_ENTRY);
	}
	requeue_interrupted_event(v);
	switch (reason & 0xffff) {
	case EXIT_REASON_EXTERNAL_INTERRUPT:
		return EXIT_RESUME;
	case EXIT_REASON_EXCEPTION_NMI:
		if ((v->exit.intr_info & INTR_INFO_INTR_TYPE_MASK) == INTR_TYPE_NMI_INTR)
			return EXIT_RESUME; /* the host handled it right after the exit */
		break;
	case EXIT_REASON_TRIPLE_FAULT:
		return exit_to_user(v, KVM_EXIT_SHUTDOWN);
	case EXIT_REASON_CPUID:
		return handle_cpuid(v);
	case EXIT_REASON_HLT:
		skip_instruction(v);
		return exit_to_user(v, KVM_EXIT_HLT);
	case EXIT_REASON_INVD:
		skip_instruction(v);
		return EXIT_RESUME;
	case EXIT_REASON_IO_INSTRUCTION:
		return handle_io(v);
	case EXIT_REASON_EPT_VIOLATION:
		return handle_ept_violation(v);
	case EXIT_REASON_CR_ACCESS:
		return handle_cr(v);
	case EXIT_REASON_MSR_READ:
	case EXIT_REASON_MSR_WRITE:
	case EXIT_REASON_XSETBV:
		inject(v, X86_TRAP_GP, true, 0);
		return EXIT_RESUME;
	case EXIT_REASON_VMCALL:
	case EXIT_REASON_VMCLEAR:
	case EXIT_REASON_VMLAUNCH:
	case EXIT_REASON_VMPTRLD:
	case EXIT_REASON_VMPTRST:
	case EXIT_REASON_VMREAD:
	case EXIT_REASON_VMRESUME:
	case EXIT_REASON_VMWRITE:
	case EXIT_REASON_VMOFF:
	case EXIT_REASON_VMON:
	case EXIT_REASON_INVEPT:
	case EXIT_REASON_INVVPID:
	case EXIT_REASON_VMFUNC:
	case EXIT_REASON_MWAIT_INSTRUCTION:
	case EXIT_REASON_MONITOR_INSTRUCTION:
	case 11: /* GETSEC */
		inject(v, X86_TRAP_UD, false, 0);
		return EXIT_RESUME;
	default:
		break;
	}
	v->run->internal.suberror = reason & 0xffff;
	v->run->internal.ndata = 2;
	v->run->internal.data[0] = v->exit.qualification;
	v->run->internal.data[1] = v->exit.intr_info;
	return exit_to_user(v, KVM_EXIT_INTERNAL_ERROR);
}

/* Work the kernel does on the way back to user space, which a module cannot run itself: a
 * signal, and task work (among it the expiry of ITIMER_PROF, ITIMER_VIRTUAL and POSIX CPU
 * timers). A guest that makes no exit to user space (a loop, in-kernel syscalls) would
 * otherwise never see those timers fire. Not all of TIF_NOTIFY_RESUME: rseq sets it at every
 * preemption, and a return for it would be an exit the program did not make. */
static bool work_for_user_mode(void)
{
	return signal_pending(current) || task_work_pending(current);
}

/* One entry and exit, with preemption and interrupts off around the switch. */
static int enter_once(struct dune_vcpu *v)
{
	struct host_state h;
	int r, failed;

	r = dune_vcpu_load(v);
	if (r)
		return r;
	write_host_entry_state(v);
	write_guest_entry_state(v);
	local_irq_disable();
	if (work_for_user_mode() || need_resched()) {
		local_irq_enable();
		dune_vcpu_put(v);
		return -EAGAIN;
	}
	/* The guest's FPU state may have been saved away (a context switch, kernel FPU use):
	 * the registers must hold it again, as a return to user space would reload them. */
	if (test_thread_flag(TIF_NEED_FPU_LOAD))
		switch_fpu_return();
	/* Guest time is the program's user time, as KVM accounts it (ITIMER_VIRTUAL, rusage). */
	vtime_account_guest_enter();
	swap_in(v, &h);
	failed = dune_vmx_run(&v->gprs, v->launched);
	swap_out(v, &h);
	if (failed) {
		v->run->fail_entry.hardware_entry_failure_reason =
			(1ull << 63) | dune_vmread(VM_INSTRUCTION_ERROR);
		v->run->fail_entry.cpu = v->cpu;
		vtime_account_guest_exit();
		local_irq_enable();
		dune_vcpu_put(v);
		return exit_to_user(v, KVM_EXIT_FAIL_ENTRY);
	}
	read_exit_info(v);
	/* An NMI that hit the guest belongs to the host: run its handler now. */
	if ((v->exit.reason & 0xffff) == EXIT_REASON_EXCEPTION_NMI &&
	    (v->exit.intr_info & INTR_INFO_INTR_TYPE_MASK) == INTR_TYPE_NMI_INTR)
		asm volatile("int $2");
	if (!(v->exit.reason & VMX_EXIT_REASONS_FAILED_VMENTRY))
		v->launched = true;
	/* A tick that came while the guest ran is taken here, still as guest time. An instruction
	 * must separate sti from cli: sti's interrupt shadow would cover the cli. */
	local_irq_enable();
	barrier_nospec();
	local_irq_disable();
	vtime_account_guest_exit();
	local_irq_enable();
	dune_vcpu_put(v);
	return handle_exit(v);
}

static int apply_sync_regs(struct dune_vcpu *v)
{
	struct kvm_run *run = v->run;
	int r = 0;

	if (run->kvm_dirty_regs & KVM_SYNC_X86_REGS)
		r = dune_vcpu_set_regs(v, &run->s.regs.regs);
	run->kvm_dirty_regs &= ~(u64)KVM_SYNC_X86_REGS;
	return r;
}

long dune_vcpu_run(struct dune_vcpu *v)
{
	struct kvm_run *run = v->run;
	long r;

	r = apply_sync_regs(v);
	if (r)
		return r;
	finish_io(v);
	if (READ_ONCE(run->immediate_exit)) {
		run->exit_reason = KVM_EXIT_INTR;
		r = -EINTR;
		goto out;
	}
	/* From here the FPU registers hold the guest's state (a context switch saves them there). */
	fpu_swap_kvm_fpstate(&v->fpu, true);
	for (;;) {
		if (work_for_user_mode()) {
			run->exit_reason = KVM_EXIT_INTR;
			r = -EINTR;
			break;
		}
		cond_resched();
		r = enter_once(v);
		if (r == EXIT_RESUME || r == -EAGAIN)
			continue;
		if (r == EXIT_TO_USER)
			r = 0;
		else if (r == EXIT_FAULT)
			r = -EFAULT;
		else if (r == -EINTR)
			run->exit_reason = KVM_EXIT_INTR;
		break;
	}
	fpu_swap_kvm_fpstate(&v->fpu, false);
out:
	if (run->kvm_valid_regs & KVM_SYNC_X86_REGS)
		dune_vcpu_get_regs(v, &run->s.regs.regs);
	return r;
}
