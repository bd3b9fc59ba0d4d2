/* stubs.S - the monitor's guest code: every entry into the monitor is an `out`
 * that leaves the VM; the host does the work. Ring-0 code is kept to a few
 * trivial instructions because some hypervisors (PVM) emulate it. */
#include "monitor/gate_abi.h"
#include "monitor/ports.h"
#include "runtime/trap_frame_abi.h"

        .section .note.GNU-stack, "", @progbits
        .text

/* LSTAR: a guest `syscall` lands here. On hardware at CPL 0, where the host
 * returns by letting sysretq run; on PVM at CPL 3, where the host sets RIP
 * and RFLAGS from RCX and R11 instead and sysretq is never reached. */
/* The stubs have pages of their own: a sandbox's table maps them and nothing
 * else of the library. */
        .p2align 12
        .globl dune_monitor_code_start
        .hidden dune_monitor_code_start
dune_monitor_code_start:
        .p2align 6
        .globl dune_syscall_landing
        .hidden dune_syscall_landing
        .type dune_syscall_landing, @function
dune_syscall_landing:
        outb %al, $DUNE_PORT_SYSCALL
        sysretq
        .globl dune_syscall_landing_end
        .hidden dune_syscall_landing_end
dune_syscall_landing_end:
        .size dune_syscall_landing, . - dune_syscall_landing

/* One stub per exception vector, DUNE_STUB_STRIDE bytes apart, entered at CPL 0
 * on the TSS stack. The host reads the CPU's frame from that stack, and may
 * rewrite it before the stub drops the error code and irets. */
.macro EXCEPTION_STUB vec, has_error
        .p2align 4
        outb %al, $(DUNE_PORT_EXCEPTION + \vec)
        .if \has_error
        lea 8(%rsp), %rsp
        .endif
        iretq
.endm

        .p2align 6
        .globl dune_exception_stubs
        .hidden dune_exception_stubs
dune_exception_stubs:
        EXCEPTION_STUB 0, 0
        EXCEPTION_STUB 1, 0
        EXCEPTION_STUB 2, 0
        EXCEPTION_STUB 3, 0
        EXCEPTION_STUB 4, 0
        EXCEPTION_STUB 5, 0
        EXCEPTION_STUB 6, 0
        EXCEPTION_STUB 7, 0
        EXCEPTION_STUB 8, 1
        EXCEPTION_STUB 9, 0
        EXCEPTION_STUB 10, 1
        EXCEPTION_STUB 11, 1
        EXCEPTION_STUB 12, 1
        EXCEPTION_STUB 13, 1
        EXCEPTION_STUB 14, 1
        EXCEPTION_STUB 15, 0
        EXCEPTION_STUB 16, 0
        EXCEPTION_STUB 17, 1
        EXCEPTION_STUB 18, 0
        EXCEPTION_STUB 19, 0
        EXCEPTION_STUB 20, 0
        EXCEPTION_STUB 21, 1
        EXCEPTION_STUB 22, 0
        EXCEPTION_STUB 23, 0
        EXCEPTION_STUB 24, 0
        EXCEPTION_STUB 25, 0
        EXCEPTION_STUB 26, 0
        EXCEPTION_STUB 27, 0
        EXCEPTION_STUB 28, 0
        EXCEPTION_STUB 29, 1
        EXCEPTION_STUB 30, 1
        EXCEPTION_STUB 31, 0
        .globl dune_exception_stubs_end
        .hidden dune_exception_stubs_end
dune_exception_stubs_end:

/* CPL 0 with RSP at an iret frame the host wrote: the way back to any ring-3
 * state when the guest is in ring 0. */
        .p2align 4
        .globl dune_iret
        .hidden dune_iret
dune_iret:
        iretq

/* The TLB flush gate: `int $DUNE_VECTOR_TLB_FLUSH` from ring 3 through a DPL-3
 * interrupt gate, installed only where guest ring 0 runs natively. RDI is the
 * page to invalidate, or -1 for every translation (CR3 reload; no global
 * pages, no PCIDs). Nothing is pushed past the CPU's frame: a host that stops
 * the guest in here finds that frame where an exception's would be, and backs
 * the guest out to its `int` (Place::kTlbGate). */
        .p2align 4
        .globl dune_tlb_gate
        .hidden dune_tlb_gate
dune_tlb_gate:
        cmpq $-1, %rdi
        je 1f
        invlpg (%rdi)
        iretq
1:      movq %cr3, %rax
        movq %rax, %cr3
        iretq
        .globl dune_tlb_gate_end
        .hidden dune_tlb_gate_end
dune_tlb_gate_end:

/* The exception gate (FlavourTraits::exceptions_in_guest, where guest ring 0
 * runs natively): the IDT sends the fault vectors here instead of to their
 * stubs, and dune_gate_dispatch (monitor/exception_gate.cpp) runs the Dune
 * handler the program registered for one, and the handler's return, without a
 * VM exit. Whatever it declines goes on to the vector's stub and the host,
 * exactly as if the CPU had gone there. Each entry makes the stack uniform
 * (error code, or 0; then the vector) for dune_gate_common.
 * Where a host that stops the guest in here finds the program's registers
 * (GuestThread::user_state): up to dune_gate_saved and in the continuations,
 * in the CPU; up to dune_gate_commit and in the dispatcher (RSP below the
 * GateFrame), in the GateFrame at a fixed place of the ring-0 stack, with the
 * CPU's frame, which still says "before the faulting instruction" (re-run, it
 * faults again: nothing is lost); from there on, in the CpuBlock's GateOut,
 * the state being resumed. */
.macro GATE_ENTRY vec, has_error
        .p2align 4
        .if \has_error == 0
        pushq $0
        .endif
        pushq $\vec
        jmp dune_gate_common
.endm

.macro GATE_PUSH
        pushq %rax
        pushq %rbx
        pushq %rcx
        pushq %rdx
        pushq %rsi
        pushq %rdi
        pushq %rbp
        pushq %r8
        pushq %r9
        pushq %r10
        pushq %r11
        pushq %r12
        pushq %r13
        pushq %r14
        pushq %r15
.endm

.macro GATE_POP
        popq %r15
        popq %r14
        popq %r13
        popq %r12
        popq %r11
        popq %r10
        popq %r9
        popq %r8
        popq %rbp
        popq %rdi
        popq %rsi
        popq %rdx
        popq %rcx
        popq %rbx
        popq %rax
.endm

/* RAX: a vector; out: the address of its continuation (RCX clobbered). */
.macro GATE_CONTINUATION
        cmpq $32, %rax
        jb 1f
        movl $32, %eax
1:      leaq dune_gate_continue(%rip), %rcx
        movslq (%rcx,%rax,4), %rax
        addq %rcx, %rax
.endm

/* Where a declined vector goes: its stub, as the CPU would have entered it. */
.macro GATE_CONTINUE vec, has_error
        .if \has_error
        .long dune_exception_stubs + \vec * DUNE_STUB_STRIDE - dune_gate_continue
        .else
        .long .Lgate_drop_\vec - dune_gate_continue
        .endif
.endm

        .p2align 6
        .globl dune_gate_entries
        .hidden dune_gate_entries
dune_gate_entries:
        GATE_ENTRY 0, 0
        GATE_ENTRY 1, 0
        GATE_ENTRY 2, 0
        GATE_ENTRY 3, 0
        GATE_ENTRY 4, 0
        GATE_ENTRY 5, 0
        GATE_ENTRY 6, 0
        GATE_ENTRY 7, 0
        GATE_ENTRY 8, 1
        GATE_ENTRY 9, 0
        GATE_ENTRY 10, 1
        GATE_ENTRY 11, 1
        GATE_ENTRY 12, 1
        GATE_ENTRY 13, 1
        GATE_ENTRY 14, 1
        GATE_ENTRY 15, 0
        GATE_ENTRY 16, 0
        GATE_ENTRY 17, 1
        GATE_ENTRY 18, 0
        GATE_ENTRY 19, 0
        GATE_ENTRY 20, 0
        GATE_ENTRY 21, 1
        GATE_ENTRY 22, 0
        GATE_ENTRY 23, 0
        GATE_ENTRY 24, 0
        GATE_ENTRY 25, 0
        GATE_ENTRY 26, 0
        GATE_ENTRY 27, 0
        GATE_ENTRY 28, 0
        GATE_ENTRY 29, 1
        GATE_ENTRY 30, 1
        GATE_ENTRY 31, 0
/* `int $DUNE_VECTOR_TRAP_RETURN` from ring 3 (DPL 3). */
        .globl dune_gate_trap_return
        .hidden dune_gate_trap_return
dune_gate_trap_return:
        GATE_ENTRY DUNE_VECTOR_TRAP_RETURN, 0

dune_gate_common:
        testb $3, 24(%rsp)
        jz .Lgate_from_ring0
        GATE_PUSH
        .globl dune_gate_saved
        .hidden dune_gate_saved
dune_gate_saved:
        /* Only on the table the gate was set up for: not a sandbox's. */
        movq %cr3, %rax
        incq %rax
        cmpq (DUNE_CPU_GATE_ROOT - DUNE_CPU_RSP0_TOP + DUNE_GATE_FRAME_BYTES)(%rsp), %rax
        jne .Lgate_to_host
        movq %rsp, %rdi
        movq %cr2, %rsi
        cld
        call dune_gate_dispatch
        cmpq $1, %rax
        ja .Lgate_count
        je .Lgate_back
.Lgate_to_host:
        /* The vector's slot becomes the address of its continuation. */
        movq 120(%rsp), %rax
        GATE_CONTINUATION
        movq %rax, 120(%rsp)
        GATE_POP
        ret
.Lgate_back:
        /* Declined trap return: back to its `out`, the host's way. */
        GATE_POP
        addq $16, %rsp
        iretq

/* An exception in ring 0. Inside the dispatcher (RSP below this vCPU's
 * GateFrame and above its GateOut; the GDT, at the start of the CpuBlock,
 * says which block): its work is dropped and the exception it was handling
 * goes on as declined, from the GateFrame, which still holds the program's
 * state. It wrote nothing the program owns above its red zone. So a page of
 * the program's stack that is not writable, or a translation cached from
 * before a raise, costs the host's path instead of the gate's, never more.
 * Anything else (the monitor's own fault): to the vector's stub. */
.Lgate_from_ring0:
        pushq %rax
        pushq %rcx
        subq $16, %rsp
        sgdt 6(%rsp)
        movq 8(%rsp), %rax
        addq $16, %rsp
        leaq (DUNE_CPU_RSP0_TOP - DUNE_GATE_FRAME_BYTES)(%rax), %rcx
        cmpq %rcx, %rsp
        jae 2f
        addq $DUNE_CPU_GATE_OUT, %rax
        cmpq %rax, %rsp
        jb 2f
        movq %rcx, %rsp
        cmpq $DUNE_VECTOR_TRAP_RETURN, 120(%rsp)
        je .Lgate_back
        jmp .Lgate_to_host
2:      movq 16(%rsp), %rax
        GATE_CONTINUATION
        movq %rax, 16(%rsp)
        popq %rcx
        popq %rax
        ret
/* A dispatched exception is counted as the last step before the commit: a
 * host stop up to here re-runs the faulting instruction (counted then), one
 * from the commit on resumes the handler (counted now). Trap returns are not. */
.Lgate_count:
        movq 120(%rsp), %rcx
        cmpq $32, %rcx
        jae dune_gate_commit
        leaq dune_gate_dispatched(%rip), %rdx
        lock incq (%rdx,%rcx,8)
        .globl dune_gate_commit
        .hidden dune_gate_commit
dune_gate_commit:
        movq %rax, %rsp
        GATE_POP
        iretq
        .globl dune_gate_commit_end
        .hidden dune_gate_commit_end
dune_gate_commit_end:

        .p2align 4
        .globl dune_gate_continuations
        .hidden dune_gate_continuations
dune_gate_continuations:
.irp vec, 0, 1, 2, 3, 4, 5, 6, 7, 9, 15, 16, 18, 19, 20, 22, 23, 24, 25, 26, 27, 28, 31
.Lgate_drop_\vec:
        leaq 8(%rsp), %rsp
        jmp dune_exception_stubs + \vec * DUNE_STUB_STRIDE
.endr
/* `int $DUNE_VECTOR_TRAP_RETURN` on another table (a sandbox): the #GP the
 * CPU raises where the IDT has no gate for a vector. */
.Lgate_drop_32:
        movq $((DUNE_VECTOR_TRAP_RETURN << 3) | 2), (%rsp)
        subq $2, 8(%rsp)
        jmp dune_exception_stubs + 13 * DUNE_STUB_STRIDE
        .globl dune_gate_continuations_end
        .hidden dune_gate_continuations_end
dune_gate_continuations_end:

        .p2align 2
dune_gate_continue:
        GATE_CONTINUE 0, 0
        GATE_CONTINUE 1, 0
        GATE_CONTINUE 2, 0
        GATE_CONTINUE 3, 0
        GATE_CONTINUE 4, 0
        GATE_CONTINUE 5, 0
        GATE_CONTINUE 6, 0
        GATE_CONTINUE 7, 0
        GATE_CONTINUE 8, 1
        GATE_CONTINUE 9, 0
        GATE_CONTINUE 10, 1
        GATE_CONTINUE 11, 1
        GATE_CONTINUE 12, 1
        GATE_CONTINUE 13, 1
        GATE_CONTINUE 14, 1
        GATE_CONTINUE 15, 0
        GATE_CONTINUE 16, 0
        GATE_CONTINUE 17, 1
        GATE_CONTINUE 18, 0
        GATE_CONTINUE 19, 0
        GATE_CONTINUE 20, 0
        GATE_CONTINUE 21, 1
        GATE_CONTINUE 22, 0
        GATE_CONTINUE 23, 0
        GATE_CONTINUE 24, 0
        GATE_CONTINUE 25, 0
        GATE_CONTINUE 26, 0
        GATE_CONTINUE 27, 0
        GATE_CONTINUE 28, 0
        GATE_CONTINUE 29, 1
        GATE_CONTINUE 30, 1
        GATE_CONTINUE 31, 0
        GATE_CONTINUE 32, 0

/* Ring 3, where the gate is: a Dune trap handler returns here; the gate
 * declines what it cannot restore, which then reports to the host. */
        .p2align 4
        .globl dune_trap_return_gated
        .hidden dune_trap_return_gated
        .type dune_trap_return_gated, @function
dune_trap_return_gated:
        int $DUNE_VECTOR_TRAP_RETURN
        .globl dune_trap_return_gated_out
        .hidden dune_trap_return_gated_out
dune_trap_return_gated_out:
        outb %al, $DUNE_PORT_TRAP_RETURN
        ud2
        .size dune_trap_return_gated, . - dune_trap_return_gated

/* Ring 3, where the gate is: a Dune trap handler of the program's own returns
 * here and the interrupted state comes back without leaving ring 3, as
 * sigreturn would bring it back without the kernel: the FPU image, the
 * registers, then RIP, RSP and RFLAGS together by an iretq that stays in ring
 * 3 (its five words below the frame, where no signal frame can land before it
 * runs: a signal meets RSP below them). What it does not vouch for (a frame
 * that is not this one's, an image XRSTOR would refuse, a non-canonical RIP
 * or RSP, a trap flag to set) takes the gate's path, which decides as before.
 * One copy restores with XRSTOR, one with FXRSTOR (no XSAVE: Skylake-X in
 * Bochs). RSP: the frame (the handler's ret popped the return address). */
.macro user_trap_return name, xsave
        .p2align 4
        .globl \name
        .hidden \name
        .type \name, @function
\name:
        movabsq $DUNE_TRAP_MAGIC, %rax
        xorq %rsp, %rax
        cmpq %rax, DUNE_TRAP_FRAME_MAGIC(%rsp)
        jne 9f
        cmpq $0, DUNE_TRAP_FRAME_KIND(%rsp)
        jne 9f
        movq DUNE_TF_RIP(%rsp), %rax
        orq DUNE_TF_RSP(%rsp), %rax
        shrq $47, %rax
        jnz 9f
        testl $0x100, DUNE_TF_RFLAGS(%rsp)
        jnz 9f
        /* The image: 64-byte aligned, just above the frame (trap_frame.h). */
        movq DUNE_TRAP_FRAME_XSAVE(%rsp), %rdi
        testl $63, %edi
        jnz 9f
        movq %rdi, %rax
        subq %rsp, %rax
        cmpq $DUNE_TRAP_FRAME_BYTES, %rax
        jb 9f
        cmpq $DUNE_TRAP_FRAME_BYTES + 64, %rax
        ja 9f
        /* MXCSR within its mask (0 there: the default, 0xffbf). */
        movl 28(%rdi), %eax
        testl %eax, %eax
        jnz 1f
        movl $0xffbf, %eax
1:      notl %eax
        testl %eax, 24(%rdi)
        jnz 9f
.if \xsave
        /* The header: no component outside XCR0, XCOMP_BV and the rest zero. */
        xorl %ecx, %ecx
        xgetbv
        shlq $32, %rdx
        orq %rax, %rdx
        notq %rdx
        testq %rdx, 512(%rdi)
        jnz 9f
        movq 520(%rdi), %rax
        orq 528(%rdi), %rax
        orq 536(%rdi), %rax
        orq 544(%rdi), %rax
        orq 552(%rdi), %rax
        orq 560(%rdi), %rax
        orq 568(%rdi), %rax
        jnz 9f
        movl $-1, %eax
        movl $-1, %edx
        xrstor64 (%rdi)
.else
        fxrstor64 (%rdi)
.endif
        movq DUNE_TF_RIP(%rsp), %rax
        movq %rax, -40(%rsp)
        movq $0x33, -32(%rsp)
        movq DUNE_TF_RFLAGS(%rsp), %rax
        andq $0x3c7fd7, %rax
        orq $0x202, %rax
        movq %rax, -24(%rsp)
        movq DUNE_TF_RSP(%rsp), %rax
        movq %rax, -16(%rsp)
        movq $0x2b, -8(%rsp)
        movq DUNE_TF_RDI(%rsp), %rdi
        movq DUNE_TF_RSI(%rsp), %rsi
        movq DUNE_TF_RDX(%rsp), %rdx
        movq DUNE_TF_RCX(%rsp), %rcx
        movq DUNE_TF_R8(%rsp), %r8
        movq DUNE_TF_R9(%rsp), %r9
        movq DUNE_TF_R10(%rsp), %r10
        movq DUNE_TF_R11(%rsp), %r11
        movq DUNE_TF_RBX(%rsp), %rbx
        movq DUNE_TF_RBP(%rsp), %rbp
        movq DUNE_TF_R12(%rsp), %r12
        movq DUNE_TF_R13(%rsp), %r13
        movq DUNE_TF_R14(%rsp), %r14
        movq DUNE_TF_R15(%rsp), %r15
        movq DUNE_TF_RAX(%rsp), %rax
        leaq -40(%rsp), %rsp
        iretq
9:      jmp dune_trap_return_gated
        .size \name, . - \name
.endm
        user_trap_return dune_trap_return_user_xsave, 1
        user_trap_return dune_trap_return_user_fxsave, 0

/* Ring 3: a Dune trap handler returns here (its return address). */
        .p2align 4
        .globl dune_trap_return
        .hidden dune_trap_return
        .type dune_trap_return, @function
dune_trap_return:
        outb %al, $DUNE_PORT_TRAP_RETURN
        ud2
        .size dune_trap_return, . - dune_trap_return
        .p2align 12
        .globl dune_monitor_code_end
        .hidden dune_monitor_code_end
dune_monitor_code_end:
