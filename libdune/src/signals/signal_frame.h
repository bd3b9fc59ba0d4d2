// signal_frame.h - the x86-64 signal frame, laid out exactly as Linux lays it
// out on the program's stack, so that handlers and ucontext readers (libunwind,
// garbage collectors, JITs) see what they see natively.
#pragma once

#include <signal.h>

#include <cstddef>
#include <cstdint>

#include "signals/signal_queue.h"

namespace dune {

// struct sigcontext (64-bit): glibc's mcontext_t has the same layout.
struct KSigcontext {
  uint64_t r8, r9, r10, r11, r12, r13, r14, r15;
  uint64_t rdi, rsi, rbp, rbx, rdx, rax, rcx, rsp, rip, eflags;
  uint16_t cs, gs, fs, ss;
  uint64_t err, trapno, oldmask, cr2;
  uint64_t fpstate;  // address of the XSAVE (or FXSAVE) image, 64-byte aligned
  uint64_t reserved1[8];
};
struct KStack {
  uint64_t sp;
  int32_t flags;
  int32_t pad;
  uint64_t size;
};
// The kernel's struct ucontext: its sigmask is 8 bytes (glibc's ucontext_t is
// longer, and natively its tail overlaps the siginfo just as here).
struct KUcontext {
  uint64_t flags;
  uint64_t link;
  KStack stack;
  KSigcontext mcontext;
  uint64_t sigmask;
};
struct RtSigframe {
  uint64_t pretcode;  // the handler's return address: sa_restorer
  KUcontext uc;
  siginfo_t info;
};
static_assert(sizeof(KSigcontext) == 256);
static_assert(sizeof(KUcontext) == 304);
static_assert(sizeof(RtSigframe) == 440);

constexpr uint64_t kUcFpXstate = 0x1;
constexpr uint64_t kUcSigcontextSs = 0x2;
constexpr uint64_t kUcStrictRestoreSs = 0x4;
constexpr uint32_t kFpXstateMagic1 = 0x46505853;  // in the FXSAVE area's software bytes
constexpr uint32_t kFpXstateMagic2 = 0x46505845;  // right after the XSAVE image
constexpr size_t kFpSwBytesOffset = 464;

struct SignalFrameLayout {
  uint64_t frame;        // struct RtSigframe; the handler's rsp
  uint64_t fpstate;      // the FPU image
  bool on_altstack;      // the frame is on the sigaltstack
  bool overflow;         // it would not fit there: Linux kills with SIGSEGV
};

// Where Linux puts the frame for a signal interrupting rsp: below the red zone,
// or at the top of the sigaltstack (SA_ONSTACK, not already on it); the FPU
// image (fpu_bytes, 64-byte aligned) first, then the frame, with rsp + 8
// 16-byte aligned as at any function's entry.
SignalFrameLayout signal_frame_layout(uint64_t rsp, const AltStack& alt, bool sa_onstack,
                                      uint64_t fpu_bytes);

// The software-reserved bytes of an XSAVE image in a signal frame (what the
// kernel's sigreturn and debuggers check): fills them in image.
void mark_xstate_frame(uint8_t* image, uint32_t xstate_size, uint64_t xfeatures);
// True if image carries them (else only its legacy FXSAVE part is meaningful).
bool has_xstate_frame(const uint8_t* image, uint32_t xstate_size);

}  // namespace dune
