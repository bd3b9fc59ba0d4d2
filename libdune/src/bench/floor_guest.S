/* floor_guest.S - the ring-3 loop of the exit-floor VM: rbx round trips of
 * `syscall`, then a syscall with rax = -1 to say it is done. */
        .section .note.GNU-stack, "", @progbits
        .text
        .p2align 4
        .globl dune_floor_guest
        .hidden dune_floor_guest
dune_floor_guest:
1:      mov $110, %eax
        syscall
        dec %rbx
        jnz 1b
        mov $-1, %rax
        syscall
        ud2
