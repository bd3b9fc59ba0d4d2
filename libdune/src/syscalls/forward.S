/* forward.S - the one instruction through which the host runs the program's
 * syscalls. A host signal handler that interrupts it can tell from the saved
 * RIP whether the kernel wants the syscall restarted (RIP back at
 * dune_forward_insn) or reports EINTR (RIP at dune_forward_done). */
#include <sys/syscall.h>

        .section .note.GNU-stack, "", @progbits
        .text

/* long dune_forward(long nr, long a1, long a2, long a3, long a4, long a5, long a6) */
        .p2align 4
        .globl dune_forward
        .hidden dune_forward
        .type dune_forward, @function
dune_forward:
        mov %rdi, %rax
        mov %rsi, %rdi
        mov %rdx, %rsi
        mov %rcx, %rdx
        mov %r8, %r10
        mov %r9, %r8
        mov 8(%rsp), %r9
        .globl dune_forward_insn
        .hidden dune_forward_insn
dune_forward_insn:
        syscall
        .globl dune_forward_done
        .hidden dune_forward_done
dune_forward_done:
        ret
        .size dune_forward, . - dune_forward
