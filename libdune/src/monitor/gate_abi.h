/* gate_abi.h - the exception gate's layout, shared by stubs.S and C++: where
 * guest ring 0 keeps what it needs in a vCPU's CpuBlock (monitor.h), and the
 * frame the gate builds on the ring-0 stack (monitor/exception_gate.h). */
#ifndef DUNE_MONITOR_GATE_ABI_H
#define DUNE_MONITOR_GATE_ABI_H

/* Top of the ring-0 stack in a CpuBlock (TSS RSP0). */
#define DUNE_CPU_RSP0_TOP 0x3000
/* CR3 + 1 of the table whose exceptions guest ring 0 may dispatch (0: none).
 * Compared with the live CR3 before the gate reads anything of the library,
 * which a sandbox's table does not map. */
#define DUNE_CPU_GATE_ROOT 0x200
/* WalkMemo[2]: the leaf tables the gate found last (a fault's page, a frame's). */
#define DUNE_CPU_GATE_WALK 0x208
/* The state the gate resumes ring 3 with: GateOut (15 registers, iret frame). */
#define DUNE_CPU_GATE_OUT 0x240
/* GateFrame: 15 registers, vector, error code, the CPU's iret frame. From
 * ring 3 it always sits at RSP0_TOP - GATE_FRAME_BYTES. */
#define DUNE_GATE_FRAME_BYTES 176
/* The `int` vector through which a Dune trap handler returns. */
#define DUNE_VECTOR_TRAP_RETURN 0xf2

#endif
