/* host_clone.S - the host side of clone, clone3, fork and vfork.
 *
 * long dune_host_clone(long nr, long a1, long a2, long a3, long a4, long a5,
 *                      void (*child_fn)(void *), void *child_arg)
 * nr is SYS_clone or SYS_clone3. Where the child gets a stack of its own
 * (CLONE_VM: one the caller allocated), it calls child_fn(child_arg) there and
 * never returns; otherwise (fork) both return, the child with 0, like fork(). */
#include <sys/syscall.h>

        .section .note.GNU-stack, "", @progbits
        .text
        .p2align 4
        .globl dune_host_clone
        .hidden dune_host_clone
        .type dune_host_clone, @function
dune_host_clone:
        push %r12
        push %r13
        mov 24(%rsp), %r12      /* child_fn: the child keeps callee-saved registers */
        mov 32(%rsp), %r13      /* child_arg */
        mov %rdi, %rax
        mov %rsi, %rdi
        mov %rdx, %rsi
        mov %rcx, %rdx
        mov %r8, %r10
        mov %r9, %r8
        syscall
        test %rax, %rax
        jnz 1f
        test %r12, %r12
        jz 1f
        /* The child, on its own stack. */
        xor %ebp, %ebp
        and $-16, %rsp
        mov %r13, %rdi
        call *%r12
        ud2
1:      pop %r13
        pop %r12
        ret
        .size dune_host_clone, . - dune_host_clone
