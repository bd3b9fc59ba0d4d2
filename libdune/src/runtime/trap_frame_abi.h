/* trap_frame_abi.h - offsets into struct TrapFrame (runtime/trap_frame.h) for
 * the ring-3 return path in monitor/stubs.S; trap_frame.h checks them. */
#ifndef DUNE_RUNTIME_TRAP_FRAME_ABI_H
#define DUNE_RUNTIME_TRAP_FRAME_ABI_H

/* struct dune_tf */
#define DUNE_TF_RDI 0
#define DUNE_TF_RSI 8
#define DUNE_TF_RDX 16
#define DUNE_TF_RCX 24
#define DUNE_TF_R8 32
#define DUNE_TF_R9 40
#define DUNE_TF_R10 48
#define DUNE_TF_R11 56
#define DUNE_TF_RBX 64
#define DUNE_TF_RBP 72
#define DUNE_TF_R12 80
#define DUNE_TF_R13 88
#define DUNE_TF_R14 96
#define DUNE_TF_R15 104
#define DUNE_TF_RAX 112
#define DUNE_TF_RIP 128
#define DUNE_TF_RFLAGS 144
#define DUNE_TF_RSP 152
/* struct TrapFrame after its dune_tf */
#define DUNE_TRAP_FRAME_MAGIC 168
#define DUNE_TRAP_FRAME_XSAVE 176
#define DUNE_TRAP_FRAME_KIND 184
#define DUNE_TRAP_FRAME_BYTES 192
/* "dunetrap" */
#define DUNE_TRAP_MAGIC 0x64756e6574726170

#endif
