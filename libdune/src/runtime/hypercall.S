/* hypercall.S - long dune_hypercall(long nr, u64 a1, u64 a2, u64 a3): from
 * guest ring 3 to the library's host side (RAX = nr, RDI/RSI/RDX = args). */
#include "monitor/ports.h"

        .section .note.GNU-stack, "", @progbits
        .text
        .p2align 4
        .globl dune_hypercall
        .hidden dune_hypercall
        .type dune_hypercall, @function
dune_hypercall:
        mov %rdi, %rax
        mov %rsi, %rdi
        mov %rdx, %rsi
        mov %rcx, %rdx
        .globl dune_hypercall_out
        .hidden dune_hypercall_out
dune_hypercall_out:
        outb %al, $DUNE_PORT_HYPERCALL
        .globl dune_hypercall_done
        .hidden dune_hypercall_done
dune_hypercall_done:
        ret
        .size dune_hypercall, . - dune_hypercall
