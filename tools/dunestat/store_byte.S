/* store_byte.S - a store whose address and length the fault handlers know.
 *
 * void dunestat_store_byte(volatile char *p): writes 1 to *p. The User fault
 * row points it at a read-only page; the handler then resumes at
 * dunestat_store_resume, past the store, instead of retrying it. */
  .text
  .globl dunestat_store_byte, dunestat_store_insn, dunestat_store_resume
  .type dunestat_store_byte, @function
dunestat_store_byte:
dunestat_store_insn:
  movb $1, (%rdi)
dunestat_store_resume:
  ret
  .size dunestat_store_byte, . - dunestat_store_byte

  .section .note.GNU-stack, "", @progbits
