/* SPDX-License-Identifier: GPL-2.0 */
/*
 * vmenter.S - int dune_vmx_run(struct dune_gprs *regs, int launched)
 *
 * Loads the guest's general registers, enters with VMLAUNCH or VMRESUME, and
 * on the VM exit saves them back. HOST_RIP is the instruction right after the
 * entry, so a failed entry (CF or ZF set) and an exit (RFLAGS cleared) take
 * the same straight path: returns 1 on a failed entry, 0 after an exit.
 */
#include <linux/linkage.h>
#include <asm/nospec-branch.h>

#define FIELD_HOST_RSP 0x6c14
#define FIELD_HOST_RIP 0x6c16

/* struct dune_gprs */
#define G_RAX 0
#define G_RCX 8
#define G_RDX 16
#define G_RBX 24
#define G_RBP 40
#define G_RSI 48
#define G_RDI 56
#define G_R8 64
#define G_R9 72
#define G_R10 80
#define G_R11 88
#define G_R12 96
#define G_R13 104
#define G_R14 112
#define G_R15 120

.section .text
SYM_FUNC_START(dune_vmx_run)
	push %rbp
	mov %rsp, %rbp
	push %r15
	push %r14
	push %r13
	push %r12
	push %rbx
	push %rdi		/* the register block: 8(%rsp) at the exit */
	push %rsi		/* launched: (%rsp) */

	/* The exit comes back here, on this stack. */
	mov $FIELD_HOST_RSP, %eax
	vmwrite %rsp, %rax
	lea .Lexit(%rip), %rdx
	mov $FIELD_HOST_RIP, %eax
	vmwrite %rdx, %rax

	/* No host data left in CPU buffers for the guest to sample (clobbers ZF). */
	VM_CLEAR_CPU_BUFFERS
	cmpq $0, (%rsp)

	/* Only MOVs from here to the entry: the flags of the compare must survive. */
	mov G_RCX(%rdi), %rcx
	mov G_RDX(%rdi), %rdx
	mov G_RBX(%rdi), %rbx
	mov G_RBP(%rdi), %rbp
	mov G_RSI(%rdi), %rsi
	mov G_R8(%rdi), %r8
	mov G_R9(%rdi), %r9
	mov G_R10(%rdi), %r10
	mov G_R11(%rdi), %r11
	mov G_R12(%rdi), %r12
	mov G_R13(%rdi), %r13
	mov G_R14(%rdi), %r14
	mov G_R15(%rdi), %r15
	mov G_RAX(%rdi), %rax
	mov G_RDI(%rdi), %rdi
	je .Llaunch
	vmresume
	jmp .Lexit
.Llaunch:
	vmlaunch
.Lexit:
	/* Guest registers are live; only flag-preserving instructions until SETBE. */
	push %rdi
	mov 16(%rsp), %rdi
	mov %rax, G_RAX(%rdi)
	mov %rcx, G_RCX(%rdi)
	mov %rdx, G_RDX(%rdi)
	mov %rbx, G_RBX(%rdi)
	mov %rbp, G_RBP(%rdi)
	mov %rsi, G_RSI(%rdi)
	mov %r8, G_R8(%rdi)
	mov %r9, G_R9(%rdi)
	mov %r10, G_R10(%rdi)
	mov %r11, G_R11(%rdi)
	mov %r12, G_R12(%rdi)
	mov %r13, G_R13(%rdi)
	mov %r14, G_R14(%rdi)
	mov %r15, G_R15(%rdi)
	popq G_RDI(%rdi)
	mov $0, %eax
	setbe %al

	/* The guest may have trained the return predictor: overwrite it. */
	FILL_RETURN_BUFFER %rcx, RSB_CLEAR_LOOPS, X86_FEATURE_RSB_VMEXIT, X86_FEATURE_RSB_VMEXIT_LITE

	/* No guest values left in registers the C code may speculate on. */
	xor %ecx, %ecx
	xor %edx, %edx
	xor %esi, %esi
	xor %edi, %edi
	xor %r8d, %r8d
	xor %r9d, %r9d
	xor %r10d, %r10d
	xor %r11d, %r11d

	add $16, %rsp
	pop %rbx
	pop %r12
	pop %r13
	pop %r14
	pop %r15
	pop %rbp
	RET
SYM_FUNC_END(dune_vmx_run)
