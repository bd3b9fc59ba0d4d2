// trap_frame.h - the frame a Dune trap handler runs on, below the interrupted stack.
#pragma once

#include <dune/dune.h>

#include <cstdint>

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
constexpr uint64_t kTrapMagic = 0x64756e6574726170ull;  // "dunetrap"
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
