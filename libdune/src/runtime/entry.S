/* entry.S - entering Dune mode (capturing where the caller resumes) and the
 * host side's own stack. */
#include <sys/syscall.h>

        .section .note.GNU-stack, "", @progbits
        .text

/* int dune_enter(void)
 * Saves what the caller expects preserved (callee-saved registers, the stack
 * pointer after return, the return address, flags) as a struct EntryContext
 * and hands it to dune_enter_impl. On success the guest resumes at the return
 * address with rax = 0 and dune_enter_impl never returns here; on failure it
 * returns -errno and so does this. */
        .globl dune_enter
        .type dune_enter, @function
dune_enter:
        .cfi_startproc
        sub $72, %rsp
        .cfi_adjust_cfa_offset 72
        mov %rbx, 0(%rsp)
        mov %rbp, 8(%rsp)
        mov %r12, 16(%rsp)
        mov %r13, 24(%rsp)
        mov %r14, 32(%rsp)
        mov %r15, 40(%rsp)
        lea 80(%rsp), %rax          /* rsp once dune_enter has returned */
        mov %rax, 48(%rsp)
        mov 72(%rsp), %rax          /* return address */
        mov %rax, 56(%rsp)
        pushfq
        .cfi_adjust_cfa_offset 8
        pop %rax
        .cfi_adjust_cfa_offset -8
        mov %rax, 64(%rsp)
        mov %rsp, %rdi
        call dune_enter_impl
        add $72, %rsp
        .cfi_adjust_cfa_offset -72
        ret
        .cfi_endproc
        .size dune_enter, . - dune_enter

/* [[noreturn]] void dune_run_on_stack(void *top, void (*fn)(void *), void *arg) */
        .globl dune_run_on_stack
        .hidden dune_run_on_stack
        .type dune_run_on_stack, @function
dune_run_on_stack:
        mov %rdi, %rsp
        xor %ebp, %ebp
        mov %rdx, %rdi
        call *%rsi
        ud2
        .size dune_run_on_stack, . - dune_run_on_stack

/* [[noreturn]] void dune_unmap_and_exit(void *stack, size_t len, int status)
 * Frees the host stack this code runs on, then ends the thread, touching no
 * memory in between. */
        .globl dune_unmap_and_exit
        .hidden dune_unmap_and_exit
        .type dune_unmap_and_exit, @function
dune_unmap_and_exit:
        mov %edx, %r12d
        mov $SYS_munmap, %eax
        syscall
        mov %r12d, %edi
        mov $SYS_exit, %eax
        syscall
        ud2
        .size dune_unmap_and_exit, . - dune_unmap_and_exit
