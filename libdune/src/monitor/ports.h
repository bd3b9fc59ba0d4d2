/* ports.h - the I/O ports through which guest stubs leave the VM (C and assembly). */
#ifndef DUNE_MONITOR_PORTS_H
#define DUNE_MONITOR_PORTS_H

/* Exception vector v (0..31) exits on port DUNE_PORT_EXCEPTION + v. */
#define DUNE_PORT_EXCEPTION 0x20
#define DUNE_EXCEPTION_STUBS 32
/* The syscall landing stub. */
#define DUNE_PORT_SYSCALL 0x40
/* A Dune trap handler returned (ring 3). */
#define DUNE_PORT_TRAP_RETURN 0x41
/* Calls from guest code into the library (ring 3). */
#define DUNE_PORT_HYPERCALL 0x42

/* Ports ring 3 may use (the TSS I/O bitmap allows them): the syscall port,
 * because on PVM the syscall landing runs at CPL 3, and the two above. */
#define DUNE_PORT_USER_FIRST 0x40
#define DUNE_PORT_USER_LAST 0x42

/* The `int` vector of the TLB flush gate (FlavourTraits::tlb_flush_in_guest):
 * RDI = a page to invalidate, or -1 for all (RAX clobbered). */
#define DUNE_VECTOR_TLB_FLUSH 0xf1

/* Bytes of exception stub per vector. */
#define DUNE_STUB_STRIDE 16

#endif
