/* stubs.S - the monitor's guest code: every entry into the monitor is an `out`
 * that leaves the VM; the host does the work. Ring-0 code is kept to a few
 * trivial instructions because some hypervisors (PVM) emulate it. */
#include "monitor/ports.h"

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
