// trap_frame.h - the frame a Dune trap handler runs on, below the interrupted stack.
#pragma once

#include <dune/dune.h>

#include <cstddef>
#include <cstdint>

#include "runtime/trap_frame_abi.h"

namespace dune {

// What the handler's return path needs, on the guest stack.
struct TrapFrame {
  dune_tf tf;      // the interrupted state; the handler may edit it
  uint64_t magic;  // kTrapMagic ^ the frame's address: catches stale or smashed frames
  uint64_t xsave;  // where the interrupted FPU/vector state is saved
  uint64_t kind;   // TrapKind: where the handler returns to
};
enum TrapKind : uint64_t {
  kTrapOwn = 0,             // the thread's own code
  kTrapSandboxSyscall = 1,  // a sandbox's syscall: back into the sandbox, as sysret would
  kTrapSandboxFault = 2,    // a sandbox's exception: back into the sandbox
};
constexpr uint64_t kTrapMagic = DUNE_TRAP_MAGIC;
static_assert(offsetof(TrapFrame, tf) + offsetof(dune_tf, rdi) == DUNE_TF_RDI);
static_assert(offsetof(dune_tf, rsi) == DUNE_TF_RSI && offsetof(dune_tf, rdx) == DUNE_TF_RDX);
static_assert(offsetof(dune_tf, rcx) == DUNE_TF_RCX && offsetof(dune_tf, r8) == DUNE_TF_R8);
static_assert(offsetof(dune_tf, r9) == DUNE_TF_R9 && offsetof(dune_tf, r10) == DUNE_TF_R10);
static_assert(offsetof(dune_tf, r11) == DUNE_TF_R11 && offsetof(dune_tf, rbx) == DUNE_TF_RBX);
static_assert(offsetof(dune_tf, rbp) == DUNE_TF_RBP && offsetof(dune_tf, r12) == DUNE_TF_R12);
static_assert(offsetof(dune_tf, r13) == DUNE_TF_R13 && offsetof(dune_tf, r14) == DUNE_TF_R14);
static_assert(offsetof(dune_tf, r15) == DUNE_TF_R15 && offsetof(dune_tf, rax) == DUNE_TF_RAX);
static_assert(offsetof(dune_tf, rip) == DUNE_TF_RIP && offsetof(dune_tf, rflags) == DUNE_TF_RFLAGS);
static_assert(offsetof(dune_tf, rsp) == DUNE_TF_RSP);
static_assert(offsetof(TrapFrame, magic) == DUNE_TRAP_FRAME_MAGIC && offsetof(TrapFrame, xsave) == DUNE_TRAP_FRAME_XSAVE);
static_assert(offsetof(TrapFrame, kind) == DUNE_TRAP_FRAME_KIND && sizeof(TrapFrame) == DUNE_TRAP_FRAME_BYTES);
constexpr uint64_t kRedZone = 128;

// From high to low addresses: the red zone of the interrupted code, the XSAVE
// image (64-byte aligned), the TrapFrame (16-byte aligned), and the return
// address (dune_trap_return), where the handler starts with rsp + 8 16-byte
// aligned as a called function expects.
struct TrapFrameLayout {
  uint64_t return_slot;  // the handler's rsp at entry
  uint64_t frame;        // struct TrapFrame
  uint64_t xsave;        // XSAVE image
  uint64_t bottom;       // lowest byte used (== return_slot)
};

constexpr TrapFrameLayout trap_frame_layout(uint64_t rsp, uint64_t xsave_size) {
  TrapFrameLayout l{};
  l.xsave = (rsp - kRedZone - xsave_size) & ~63ull;
  l.frame = (l.xsave - sizeof(TrapFrame)) & ~15ull;
  l.return_slot = l.frame - 8;
  l.bottom = l.return_slot;
  return l;
}

}  // namespace dune
