#include "runtime/traps.h"

#include <csignal>
#include <cstring>

#include "base/log.h"
#include "classic/sandbox.h"
#include "debug/debug_stop.h"
#include "runtime/guest_memory.h"
#include "runtime/guest_thread.h"
#include "runtime/runtime.h"
#include "runtime/trap_frame.h"
#include "runtime/trap_handlers.h"
#include "runtime/tracer.h"
#include "base/host_arena.h"
#include "signals/fatal_signal.h"
#include "signals/fault_signal.h"
#include "trace/events.h"

namespace dune {

namespace {

constexpr uint64_t kFlagTf = 1ull << 8;
constexpr uint64_t kFlagDf = 1ull << 10;

void emit_fault(GuestThread& t, const dune_tf& tf, uint64_t addr, const FaultVerdict& v,
                dune_fault_outcome outcome, int signo) {
  if (!trace::wanted(DUNE_EV_FAULT)) return;
  dune_event ev{};
  ev.kind = DUNE_EV_FAULT;
  ev.pid = t.tgid();
  ev.tid = t.tid();
  ev.regs = &tf;
  ev.u.fault.vector = static_cast<uint32_t>(t.exception().vector);
  ev.u.fault.err = t.exception().error;
  ev.u.fault.addr = addr;
  ev.u.fault.mapped = v.mapped;
  ev.u.fault.prot = v.prot;
  ev.u.fault.outcome = outcome;
  ev.u.fault.signo = signo;
  trace::emit(ev);
}

// A breakpoint or single step with no handler, under a ptrace debugger: one
// that attached to a process already in Dune mode (one started under it runs
// natively, preload.cpp). Its int3 trapped in the guest, where it cannot see.
void say_if_debugger_attached(int vector, uint64_t rip) {
  Tracer tracer = current_tracer();
  if (tracer.pid <= 0) return;
  log::warn("{} (pid {}) is tracing this process, which runs in Dune mode: its {} at rip={:#x} reached "
            "the library, not the debugger; start the program under the debugger (it then runs natively), "
            "or debug it in Dune mode with DUNE_GDB=PORT and gdb's target remote",
            tracer.who(), tracer.pid,
            vector == 3 ? "breakpoint" : "single step", rip);
}

}  // namespace

bool call_trap_handler(GuestThread& t, const dune_tf& tf, uint64_t fn, uint64_t a0, uint64_t a1,
                       bool pass_tf_third, uint64_t stack_top, uint64_t kind) {
  Runtime& rt = t.rt();
  uint64_t top = stack_top ? stack_top : tf.rsp;
  TrapFrameLayout l = trap_frame_layout(top, rt.xsave_size);
  // The frame must land on memory the program can write, as for a signal frame.
  if (!rt.mm->guest_can_write(l.bottom, top)) return false;
  TrapFrame frame{tf, kTrapMagic ^ l.frame, l.xsave, kind};
  if (!t.vcpu().get_xsave(reinterpret_cast<void*>(l.xsave), rt.xsave_size)) return false;
  // A sandbox's frame goes back through the host; so does every frame while a
  // tracer wants to see the return (dunetrace's trap_return exits).
  bool privileged = kind != kTrapOwn || trace::wanted(DUNE_EV_VMEXIT) || trace::wanted(DUNE_EV_FAULT);
  uint64_t ret = privileged ? Monitor::trap_return_privileged() : Monitor::trap_return();
  if (!copy_to_guest(l.frame, &frame, sizeof(frame)) || !copy_to_guest(l.return_slot, &ret, 8))
    return false;
  dune_tf call = tf;
  call.rip = fn;
  call.rsp = l.return_slot;
  call.rflags = tf.rflags & ~(kFlagTf | kFlagDf);
  uint64_t tf_ptr = l.frame + offsetof(TrapFrame, tf);
  call.rdi = pass_tf_third ? a0 : tf_ptr;
  call.rsi = a1;
  call.rdx = pass_tf_third ? tf_ptr : 0;
  t.resume(call);
  return true;
}

namespace {

// The floating-point exceptions the control word does not mask: x87 (FSW
// against FCW) for #MF, SSE (MXCSR flags against its masks) for #XM.
uint32_t unmasked_fp_exceptions(GuestThread& t, int vector) {
  size_t size = t.rt().xsave_size;
  auto* image = static_cast<uint8_t*>(host_arena()->allocate(size, 64));
  uint32_t e = 0;
  if (t.vcpu().get_xsave(image, size)) {
    uint16_t fcw, fsw;
    uint32_t mxcsr;
    std::memcpy(&fcw, image, 2);
    std::memcpy(&fsw, image + 2, 2);
    std::memcpy(&mxcsr, image + 24, 4);
    e = vector == 16 ? (fsw & ~fcw & 0x3f) : (mxcsr & ~(mxcsr >> 7) & 0x3f);
  }
  host_arena()->deallocate(image, size, 64);
  return e;
}

}  // namespace

void handle_exception(GuestThread& t) {
  Runtime& rt = t.rt();
  const auto& ex = t.exception();
  if (ex.vector >= 0 && ex.vector < 32) ++t.stats().faults_by_vector[ex.vector];
  // A sandbox's exception is its launcher's business, not the library's.
  if (t.sandbox.active) {
    sandbox_exception(t);
    return;
  }
  if (debug::attached() && (ex.vector == 1 || ex.vector == 3) && debug::on_debug_trap(t, ex.vector)) return;
  uint64_t addr = 0;
  FaultVerdict v;
  if (ex.vector == 14) {
    kvm_sregs s{};
    (void)t.vcpu().get_sregs(&s);
    addr = s.cr2;
    v = rt.mm->on_page_fault(addr, ex.error);
    if (v.retry && !t.retry_would_loop(ex.frame->rip, addr)) {
      // Registers untouched: the stub irets to the faulting instruction.
      if (trace::wanted(DUNE_EV_FAULT)) {
        dune_tf tf;
        t.user_state(&tf);
        emit_fault(t, tf, addr, v, DUNE_FAULT_RESOLVED, 0);
      }
      return;
    }
  }
  dune_tf tf;
  t.user_state(&tf);
  dune_pgflt_cb pf = ex.vector == 14 ? pgflt_handler() : nullptr;
  dune_intr_cb intr = pf ? nullptr : intr_handler(ex.vector);
  if (pf || intr) {
    // The exception gate finds a fault's leaf only in tables the guest maps:
    // the next fault of this kind is then dispatched without the host.
    if (pf && rt.monitor.exception_gate()) {
      auto lk = rt.mm->lock();
      (void)rt.mm->expose_tables();
    }
    bool ok = pf ? call_trap_handler(t, tf, reinterpret_cast<uint64_t>(pf), addr, ex.error, true)
                 : call_trap_handler(t, tf, reinterpret_cast<uint64_t>(intr), 0, 0, false);
    if (ok) {
      emit_fault(t, tf, addr, v, DUNE_FAULT_HANDLER, 0);
      return;
    }
    log::info("no room on the stack (rsp={:#x}) for the trap handler of vector {}", uint64_t{tf.rsp}, ex.vector);
  }
  // No Dune handler: the signal Linux sends, to the program's handler if it
  // has one that can run, else the death Linux gives.
  uint32_t fp_exceptions = 0;
  if (ex.vector == 16 || ex.vector == 19) fp_exceptions = unmasked_fp_exceptions(t, ex.vector);
  FaultSignal f = fault_signal(ex.vector, tf.rip, addr, ex.error, v.mapped, fp_exceptions);
  // gdb sees the fault before the program does: dropped ("signal 0"), the
  // instruction runs again; not reported (another thread's stop came first),
  // a fault comes again.
  if (debug::attached()) {
    siginfo_t info{};
    info.si_signo = f.signo;
    info.si_code = f.code;
    info.si_addr = reinterpret_cast<void*>(f.addr);
    if (!debug::on_program_signal(t, info).deliver) return;
  }
  // The fault's event before its signal's; one whose frame then does not fit
  // is reported again, fatal.
  if (fault_signal_catchable(t, f.signo)) {
    emit_fault(t, tf, addr, v, DUNE_FAULT_SIGNAL, f.signo);
    if (deliver_fault_signal(t, f)) return;
  }
  emit_fault(t, tf, addr, v, DUNE_FAULT_FATAL, f.signo);
  if (f.signo == SIGTRAP) say_if_debugger_attached(ex.vector, tf.rip);
  log::info("vector {} at rip={:#x} (address {:#x}): killed by signal {}", ex.vector, uint64_t{tf.rip},
            addr, f.signo);
  die_with_signal(f.signo);
}

void handle_trap_return(GuestThread& t) {
  // Only a launcher's handler returns here; a sandbox that tries is stopped.
  if (t.sandbox.active) {
    sandbox_refuse(t, "the trap-return port");
    return;
  }
  uint64_t frame_addr = t.vcpu().regs().rsp;  // the handler's ret popped the return address
  TrapFrame frame;
  if (!copy_from_guest(&frame, frame_addr, sizeof(frame)) || frame.magic != (kTrapMagic ^ frame_addr)) {
    log::error("fatal: a Dune trap handler returned with a broken stack (rsp={:#x})", frame_addr);
    die_with_signal(SIGSEGV);
  }
  if (!t.vcpu().set_xsave(reinterpret_cast<const void*>(frame.xsave))) {
    log::error("fatal: the FPU state saved for a Dune trap handler is corrupt");
    die_with_signal(SIGSEGV);
  }
  if (t.sandbox.in_run && frame.kind != kTrapOwn) {
    sandbox_trap_return(t, frame);
    return;
  }
  t.resume(frame.tf);
}

int host_fault_signal(const FaultVerdict& v, bool is_write) {
  bool allowed = v.mapped && (v.prot & (is_write ? PROT_WRITE : PROT_READ));
  return allowed ? SIGBUS : SIGSEGV;
}

void handle_host_fault(GuestThread& t, uint64_t addr, bool is_write, const FaultVerdict& v, int signo,
                       bool may_deliver) {
  dune_tf tf;
  t.user_state(&tf);
  FaultSignal f{signo, signo == SIGBUS ? int{BUS_ADRERR} : int{SEGV_ACCERR}, addr, 14,
                is_write ? 6ull : 4ull, addr};
  auto emit = [&](dune_fault_outcome outcome) {
    if (!trace::wanted(DUNE_EV_HOSTFAULT)) return;
    dune_event ev{};
    ev.kind = DUNE_EV_HOSTFAULT;
    ev.pid = t.tgid();
    ev.tid = t.tid();
    ev.regs = &tf;
    ev.u.hostfault.addr = addr;
    ev.u.hostfault.is_write = is_write;
    ev.u.hostfault.outcome = outcome;
    ev.u.hostfault.mapped = v.mapped;
    ev.u.hostfault.prot = v.prot;
    ev.u.hostfault.signo = signo;
    trace::emit(ev);
  };
  if (may_deliver && fault_signal_catchable(t, signo)) {
    emit(DUNE_FAULT_SIGNAL);
    if (deliver_fault_signal(t, f)) return;
  }
  emit(DUNE_FAULT_FATAL);
  log::info("host refused a {} at {:#x} (rip={:#x}): killed by signal {}", is_write ? "write" : "read",
            addr, uint64_t{tf.rip}, signo);
  die_with_signal(signo);
}

}  // namespace dune
