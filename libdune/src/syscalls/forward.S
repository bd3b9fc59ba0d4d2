/* forward.S - the one instruction through which the host runs the program's
 * syscalls, and the few before it that decide whether it may start.
 *
 * long dune_forward(long nr, long a1, long a2, long a3, long a4, long a5, long a6,
 *                   const SignalQueue::Indices* queue)
 *
 * With a queue (the calling guest thread's signals caught on the host), the
 * syscall starts only if nothing waits there: a signal caught before it must
 * reach the program's handler first, as natively a signal that comes before
 * a syscall is handled before it (a blocking call would otherwise wait with
 * its signal already taken). The check and the syscall instruction form one
 * restartable range: a host signal handler that interrupts the thread with
 * RIP anywhere in [dune_forward_check, dune_forward_insn] (the insn itself:
 * not started, or the kernel wants it restarted) sends it to
 * dune_forward_done with RAX = -ERESTARTSYS, and the guest makes the syscall
 * again after its handler. With RIP at dune_forward_done the kernel's own
 * result stands (EINTR where Linux gives it). Without a queue the syscall
 * runs in any case, through an instruction of its own outside that range. */
#include <sys/syscall.h>

        .section .note.GNU-stack, "", @progbits
        .text

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
        mov 16(%rsp), %r11
        test %r11, %r11
        jz 1f
        .globl dune_forward_check
        .hidden dune_forward_check
dune_forward_check:
        mov (%r11), %ecx        /* head */
        cmp 4(%r11), %ecx       /* tail */
        jne 2f
        .globl dune_forward_insn
        .hidden dune_forward_insn
dune_forward_insn:
        syscall
        .globl dune_forward_done
        .hidden dune_forward_done
dune_forward_done:
        ret
        /* Without a queue: whatever waits, and the kernel restarts it itself. */
1:      syscall
        ret
2:      mov $-512, %rax         /* ERESTARTSYS: see kRestartSyscall */
        ret
        .size dune_forward, . - dune_forward
