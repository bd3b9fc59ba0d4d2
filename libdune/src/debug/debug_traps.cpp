// debug_traps.cpp - where the vCPU loop meets the debugger: gdb's breakpoints
// and steps, and signals for the program stopped before delivery.
#include <csignal>

#include "base/raw_syscall.h"
#include "debug/debug_stop.h"
#include "debug/hw_breakpoints.h"
#include "debug/target_memory.h"
#include "runtime/guest_thread.h"
#include "runtime/runtime.h"

namespace dune::debug {

namespace {
constexpr uint64_t kDr6SingleStep = 1ull << 14;  // BS
}  // namespace

namespace {

constexpr uint64_t kFlagTf = 1ull << 8;

// A thread that does not stop for gdb (another process in the same memory: a
// vfork child) steps over gdb's breakpoints: the byte back for one
// trap-flag step, the int3 again after it.
bool step_over(GuestThread& t, dune_tf& tf, int vector) {
  ThreadDebug& d = t.debug();
  if (vector == 3 && !d.lifted && lift_breakpoint(tf.rip - 1)) {
    tf.rip -= 1;
    d.lifted = tf.rip;
    tf.rflags |= kFlagTf;
    t.resume(tf);
    return true;
  }
  if (vector == 1 && d.lifted) {
    reinsert_breakpoint(d.lifted);
    d.lifted = 0;
    tf.rflags &= ~kFlagTf;
    t.resume(tf);
    return true;
  }
  return false;
}

}  // namespace

bool on_debug_trap(GuestThread& t, int vector) {
  dune_tf tf;
  t.user_state(&tf);
  if (t.tgid() != t.rt().pid) return step_over(t, tf, vector);
  if (vector == 3 && is_breakpoint(tf.rip - 1)) {
    // int3 is a trap: RIP is past it. Back onto the breakpoint, where gdb
    // expects the stop (and where the instruction runs once gdb takes it out).
    tf.rip -= 1;
    t.resume(tf);
    (void)stop_for_event(t, Why::kBreakpoint, SIGTRAP);
    return true;
  }
  if (vector == 1 && t.debug().stepping) {
    (void)stop_for_event(t, Why::kStep, SIGTRAP);
    return true;
  }
  return false;
}

void step_ended(GuestThread& t) {
  if (t.tgid() == t.rt().pid) (void)stop_for_event(t, Why::kStep, SIGTRAP);
}

void on_debug_exit(GuestThread& t, uint64_t dr6) {
  HwKind kind;
  uint64_t addr;
  if (hw_hit(dr6, &kind, &addr)) {
    char watch = kind == HwKind::kExec ? 'h' : kind == HwKind::kWrite ? 'w' : kind == HwKind::kRead ? 'r' : 'a';
    (void)stop_for_event(t, Why::kBreakpoint, SIGTRAP, watch, addr);
  } else if ((dr6 & kDr6SingleStep) && t.debug().stepping) {
    // With KVM's breakpoints on, KVM takes the #DB of a step too.
    (void)stop_for_event(t, Why::kStep, SIGTRAP);
  }
}

SignalVerdict on_program_signal(GuestThread& t, const siginfo_t& info) {
  SignalVerdict v;
  int signo = info.si_signo;
  if (passes_silently(signo) || t.tgid() != t.rt().pid) return v;
  Outcome o = stop_for_event(t, Why::kSignal, signo, 0, 0, &info);
  v.reported = o.reported;
  v.deliver = o.reported && o.signo == signo;
  // Resumed with another signal: that one, the kernel's way.
  if (o.reported && o.signo && o.signo != signo) sys::syscall6(SYS_tgkill, sys::getpid(), t.tid(), o.signo);
  return v;
}

}  // namespace dune::debug
