// exception_gate.cpp - guest ring 0's half of the exception gate. Runs with the
// program's FS base, its FPU state live and nothing but the registers saved:
// built with -mgeneral-regs-only, no stack protector, no red zone and no
// library calls (libdune/CMakeLists.txt), reading only inline code. It may
// fault: on a page of the program's stack that is not writable, a translation
// cached from before a raise, a frame the handler broke. Then stubs.S drops
// its work and the exception goes to the host as declined. So it checks only
// what decides (whose fault it is, and that the frame's pages are the
// program's), and is short: it is most of what a fault costs the program.
#include "monitor/exception_gate.h"

#include <dune/dune.h>
#include <dune/trace.h>

#include <atomic>
#include <cstddef>

#include "mm/leaf_walk.h"
#include "mm/pte.h"
#include "mm/table_directory.h"
#include "monitor/monitor.h"
#include "runtime/trap_frame.h"
#include "runtime/trap_handlers.h"
#include "trace/events.h"

// Exceptions the gate dispatched, by vector: counted by stubs.S at the commit.
uint64_t dune_gate_dispatched[32];

namespace dune {

namespace {

GateConfig g_cfg;

constexpr uint64_t kErrPresent = 1, kErrWrite = 2, kErrUser = 4, kErrFetch = 16;
constexpr uint64_t kFlagTf = 1ull << 8, kFlagDf = 1ull << 10;
constexpr uint64_t kVaTop = 1ull << 47;
constexpr uint64_t kPage = 4096;

uint64_t block_of(GateFrame* f) {
  return reinterpret_cast<uint64_t>(f) + DUNE_GATE_FRAME_BYTES - DUNE_CPU_RSP0_TOP;
}

// The leaf table of va's 2 MiB, from the vCPU's memo or by a walk.
uint64_t* leaf_table(WalkMemo& m, uint64_t va) {
  uint64_t region = (va >> 21) + 1;
  uint64_t generation = table_directory::generation();
  if (m.region == region && m.generation == generation) return m.table;
  uint64_t next = 0;
  uint64_t* table = leaf_table_of(g_cfg.root, table_directory::mapped_table_at, va, &next);
  if (table) m = WalkMemo{region, generation, table};
  return table;
}

uint64_t leaf_of(WalkMemo& m, uint64_t va) {
  uint64_t* table = leaf_table(m, va);
  return table ? __atomic_load_n(&table[(va >> 12) & 511], __ATOMIC_ACQUIRE) : 0;
}

// Whether every page of [lo, hi) is present and the program's (PTE_U). Ring 0
// may write anything, the library's own pages too: the frame goes only where
// ring 3 could, and a wild RSP into the monitor's memory is the host's to
// judge. Writability is not checked: a refused write faults (CR0.WP) and
// stubs.S sends the fault to the host.
bool user_pages(WalkMemo& m, uint64_t lo, uint64_t hi) {
  for (uint64_t p = lo & ~(kPage - 1); p < hi; p += kPage) {
    uint64_t leaf = leaf_of(m, p);
    if ((leaf & (pte::kPresent | pte::kUser)) != (pte::kPresent | pte::kUser)) return false;
  }
  return true;
}

// A page fault on a page the program protected through the classic API, which
// its leaf refuses now: the program's. Anything else (first touch, stack
// growth, a stale translation, a leaf the host has not written) is the host's.
bool program_fault(WalkMemo& m, uint64_t err, uint64_t addr) {
  if (!(err & kErrUser)) return false;
  if (err & ~(kErrPresent | kErrWrite | kErrUser | kErrFetch)) return false;
  if (addr >= kVaTop) return false;
  uint64_t leaf = leaf_of(m, addr & ~(kPage - 1));
  if (!pte::is_record(leaf)) return false;
  // Not present: the program's no access (pte.h), if the leaf still says so.
  if (!(err & kErrPresent)) return !(leaf & pte::kPresent);
  if (!(leaf & pte::kPresent)) return false;
  if (!(leaf & pte::kUser)) return true;
  if ((err & kErrWrite) && !(leaf & pte::kWritable)) return true;
  return (err & kErrFetch) && (leaf & pte::kNoExec);
}

uint64_t user_flags(uint64_t rflags) { return (rflags & Monitor::kUserFlagsMask) | Monitor::kFlagsFixed; }

void copy_regs(GateRegs& to, const GateRegs& from) {
  auto* d = reinterpret_cast<volatile uint64_t*>(&to);
  auto* s = reinterpret_cast<const uint64_t*>(&from);
  for (size_t i = 0; i < sizeof(GateRegs) / 8; ++i) d[i] = s[i];
}

void save_fpu(uint64_t image) {
  // XSAVE writes only XSTATE_BV of the header; XRSTOR wants the rest zero.
  // FXSAVE writes none of it: the image says "x87 and SSE state here", as
  // the host's (KVM_GET_XSAVE) would, should the host restore it instead.
  auto* header = reinterpret_cast<volatile uint64_t*>(image + 512);
  header[0] = g_cfg.xcr0 ? 0 : 3;
  for (int i = 1; i < 8; ++i) header[i] = 0;
  if (!g_cfg.xcr0) {
    __asm__ volatile("fxsave64 (%0)" ::"r"(image) : "memory");
    return;
  }
  __asm__ volatile("xsave64 (%0)" ::"r"(image), "a"(~0u), "d"(~0u) : "memory");
}

// What XRSTOR (FXRSTOR) would refuse with a #GP: checked, not risked.
bool fpu_image_ok(uint64_t image) {
  auto* b = reinterpret_cast<const volatile uint32_t*>(image);
  uint32_t mxcsr = b[6], mask = b[7] ? b[7] : 0xffbf;
  if (mxcsr & ~mask) return false;
  if (!g_cfg.xcr0) return true;
  auto* header = reinterpret_cast<const volatile uint64_t*>(image + 512);
  if (header[0] & ~g_cfg.xcr0) return false;
  for (int i = 1; i < 8; ++i)
    if (header[i]) return false;
  return true;
}

void restore_fpu(uint64_t image) {
  if (!g_cfg.xcr0) {
    __asm__ volatile("fxrstor64 (%0)" ::"r"(image) : "memory");
    return;
  }
  __asm__ volatile("xrstor64 (%0)" ::"r"(image), "a"(~0u), "d"(~0u) : "memory");
}

// The handler's call, as runtime/traps.cpp's call_trap_handler makes it.
uint64_t deliver(GateFrame* f, uint64_t cr2) {
  uint64_t vector = f->vector;
  if (vector >= 32 || !g_cfg.root || trace::wanted(DUNE_EV_FAULT)) return 0;
  uint64_t fn = 0, a0 = 0, a1 = 0;
  bool pgflt = false;
  uint64_t block = block_of(f);
  WalkMemo* memo = gate_walk_memo_at(block);
  if (vector == 14) {
    dune_pgflt_cb pf = pgflt_handler();
    if (!pf || !program_fault(memo[kMemoFault], f->err, cr2)) return 0;
    fn = reinterpret_cast<uint64_t>(pf);
    a0 = cr2;
    a1 = f->err;
    pgflt = true;
  } else {
    dune_intr_cb cb = intr_handler(static_cast<int>(vector));
    if (!cb) return 0;
    fn = reinterpret_cast<uint64_t>(cb);
  }
  uint64_t top = f->iret.rsp;
  if (top >= kVaTop) return 0;
  TrapFrameLayout l = trap_frame_layout(top, g_cfg.xsave_bytes);
  if (l.bottom >= top || !user_pages(memo[kMemoFrame], l.bottom, top)) return 0;

  save_fpu(l.xsave);
  auto* frame = reinterpret_cast<volatile TrapFrame*>(l.frame);
  volatile dune_tf& tf = frame->tf;
  const GateRegs& r = f->regs;
  tf.rdi = r.rdi; tf.rsi = r.rsi; tf.rdx = r.rdx; tf.rcx = r.rcx;
  tf.r8 = r.r8; tf.r9 = r.r9; tf.r10 = r.r10; tf.r11 = r.r11;
  tf.rbx = r.rbx; tf.rbp = r.rbp; tf.r12 = r.r12; tf.r13 = r.r13;
  tf.r14 = r.r14; tf.r15 = r.r15; tf.rax = r.rax;
  tf.err = static_cast<uint32_t>(f->err);
  tf.vector = static_cast<uint32_t>(vector);
  tf.rip = f->iret.rip;
  tf.cs = desc::kUserCs;
  tf.rflags = f->iret.rflags;
  tf.rsp = f->iret.rsp;
  tf.ss = desc::kUserDs;
  frame->magic = kTrapMagic ^ l.frame;
  frame->xsave = l.xsave;
  frame->kind = kTrapOwn;
  *reinterpret_cast<volatile uint64_t*>(l.return_slot) = g_cfg.trap_return;

  GateOut* out = gate_out_at(block);
  copy_regs(out->regs, r);
  uint64_t tf_ptr = l.frame + offsetof(TrapFrame, tf);
  out->regs.rdi = pgflt ? a0 : tf_ptr;
  out->regs.rsi = a1;
  out->regs.rdx = pgflt ? tf_ptr : 0;
  out->iret.rip = fn;
  out->iret.cs = desc::kUserCs;
  out->iret.rflags = user_flags(f->iret.rflags) & ~(kFlagTf | kFlagDf);
  out->iret.rsp = l.return_slot;
  out->iret.ss = desc::kUserDs;
  return reinterpret_cast<uint64_t>(out);
}

// The handler returned (`int` from dune_trap_return_gated, RSP at its frame),
// as runtime/traps.cpp's handle_trap_return does it. Anything odd: the host.
// XRSTOR's #GP is not risked (fpu_image_ok): it would end the same way.
uint64_t trap_return(GateFrame* f) {
  constexpr uint64_t kDecline = 1;
  uint64_t at = f->iret.rsp;
  if (!g_cfg.root || (at & 15) || at >= kVaTop) return kDecline;
  uint64_t block = block_of(f);
  if (!user_pages(gate_walk_memo_at(block)[kMemoFrame], at, at + sizeof(TrapFrame))) return kDecline;
  auto* frame = reinterpret_cast<const volatile TrapFrame*>(at);
  if (frame->magic != (kTrapMagic ^ at) || frame->kind != kTrapOwn) return kDecline;
  uint64_t image = frame->xsave;
  if ((image & 63) || image < at + sizeof(TrapFrame) || image - at > sizeof(TrapFrame) + 64) return kDecline;
  if (!fpu_image_ok(image)) return kDecline;
  const volatile dune_tf& tf = frame->tf;
  uint64_t rip = tf.rip, rsp = tf.rsp;
  if (rip >= kVaTop || rsp >= kVaTop) return kDecline;
  GateOut* out = gate_out_at(block);
  GateRegs& r = out->regs;
  r.rdi = tf.rdi; r.rsi = tf.rsi; r.rdx = tf.rdx; r.rcx = tf.rcx;
  r.r8 = tf.r8; r.r9 = tf.r9; r.r10 = tf.r10; r.r11 = tf.r11;
  r.rbx = tf.rbx; r.rbp = tf.rbp; r.r12 = tf.r12; r.r13 = tf.r13;
  r.r14 = tf.r14; r.r15 = tf.r15; r.rax = tf.rax;
  out->iret.rip = rip;
  out->iret.cs = desc::kUserCs;
  out->iret.rflags = user_flags(tf.rflags);
  out->iret.rsp = rsp;
  out->iret.ss = desc::kUserDs;
  restore_fpu(image);
  return reinterpret_cast<uint64_t>(out);
}

}  // namespace

void configure_exception_gate(const GateConfig& c) {
  g_cfg.trap_return = c.trap_return;
  g_cfg.xsave_bytes = c.xsave_bytes;
  g_cfg.xcr0 = c.xcr0;
  __atomic_store_n(&g_cfg.root, c.root, __ATOMIC_RELEASE);
}

uint64_t gate_dispatched(int vector) {
  return vector >= 0 && vector < 32 ? __atomic_load_n(&dune_gate_dispatched[vector], __ATOMIC_RELAXED) : 0;
}

void reset_gate_dispatched() {
  for (uint64_t& n : dune_gate_dispatched) __atomic_store_n(&n, 0, __ATOMIC_RELAXED);
}

}  // namespace dune

extern "C" __attribute__((visibility("hidden"))) uint64_t dune_gate_dispatch(dune::GateFrame* f, uint64_t cr2) {
  if (f->vector == DUNE_VECTOR_TRAP_RETURN) return dune::trap_return(f);
  return dune::deliver(f, cr2);
}
