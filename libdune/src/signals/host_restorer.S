/* host_restorer.S - sa_restorer of the library's host signal handler. */
#include <sys/syscall.h>

        .section .note.GNU-stack, "", @progbits
        .text
        .p2align 4
        .globl dune_host_restorer
        .hidden dune_host_restorer
        .type dune_host_restorer, @function
dune_host_restorer:
        mov $SYS_rt_sigreturn, %eax
        syscall
        ud2
        .size dune_host_restorer, . - dune_host_restorer
