// guest_state.cpp - a guest thread's ring-3 state: where the program stands
// when the vCPU is stopped anywhere (in its code or in a monitor stub), and
// resuming it at any ring-3 state.
#include "monitor/exception_gate.h"
#include "monitor/monitor.h"
#include "runtime/guest_thread.h"
#include "runtime/runtime.h"

namespace dune {

Monitor::Place GuestThread::place() const {
  const kvm_regs& r = const_cast<Vcpu&>(slot_->vcpu).regs();
  Monitor::Place p = Monitor::place_of(r.rip);
  // The dispatcher's code is the library's, and an exception it takes enters
  // the gate again: both run below the GateFrame (stubs.S).
  uint64_t block = slot_->cpu.mem.start();
  bool under_frame = r.rsp >= block && r.rsp < reinterpret_cast<uint64_t>(gate_frame_at(block));
  if ((p == Monitor::Place::kUser || p == Monitor::Place::kGateEntry) && under_frame)
    return Monitor::Place::kGateSaved;
  return p;
}

bool GuestThread::in_ring0() const {
  switch (place()) {
    case Monitor::Place::kSyscallEntry:
    case Monitor::Place::kSyscallReturn: return rt_->traits.syscall_lands_in_ring0;
    case Monitor::Place::kExceptionEntry:
    case Monitor::Place::kExceptionReturn:
    case Monitor::Place::kIretStub:
    case Monitor::Place::kTlbGate:
    case Monitor::Place::kGateEntry:
    case Monitor::Place::kGateSaved:
    case Monitor::Place::kGateCommit: return true;
    default: return false;
  }
}

namespace {
void gate_regs(const GateRegs& g, dune_tf* tf) {
  tf->rax = g.rax; tf->rbx = g.rbx; tf->rcx = g.rcx; tf->rdx = g.rdx;
  tf->rsi = g.rsi; tf->rdi = g.rdi; tf->rbp = g.rbp;
  tf->r8 = g.r8; tf->r9 = g.r9; tf->r10 = g.r10; tf->r11 = g.r11;
  tf->r12 = g.r12; tf->r13 = g.r13; tf->r14 = g.r14; tf->r15 = g.r15;
}
}  // namespace

void GuestThread::user_state(dune_tf* tf) const {
  const kvm_regs& r = const_cast<Vcpu&>(slot_->vcpu).regs();
  tf->rax = r.rax; tf->rbx = r.rbx; tf->rcx = r.rcx; tf->rdx = r.rdx;
  tf->rsi = r.rsi; tf->rdi = r.rdi; tf->rbp = r.rbp;
  tf->r8 = r.r8; tf->r9 = r.r9; tf->r10 = r.r10; tf->r11 = r.r11;
  tf->r12 = r.r12; tf->r13 = r.r13; tf->r14 = r.r14; tf->r15 = r.r15;
  tf->cs = desc::kUserCs;
  tf->ss = desc::kUserDs;
  tf->err = static_cast<uint32_t>(exception_.error);
  tf->vector = exception_.vector >= 0 ? static_cast<uint32_t>(exception_.vector) : 0;
  const desc::IretFrame* f = nullptr;
  // RIP (and RSP, in the gate's dispatcher) says where the guest stands;
  // every ring-0 place is code of ours.
  switch (place()) {
    case Monitor::Place::kSyscallEntry:
      // The syscall has not been reported, so it has not run: the state is the
      // one before the syscall instruction, RAX its number (RCX and R11 hold
      // what the instruction put there; it puts the same again).
      tf->rip = r.rcx - Monitor::kSyscallInsnBytes;
      tf->rflags = r.r11;
      tf->rsp = r.rsp;
      return;
    case Monitor::Place::kSyscallReturn:
      // The state sysret returns to: after the syscall instruction.
      tf->rip = r.rcx;
      tf->rflags = r.r11;
      tf->rsp = r.rsp;
      return;
    case Monitor::Place::kExceptionEntry:
    case Monitor::Place::kExceptionReturn:
      f = slot_->cpu.iret_frame();
      break;
    case Monitor::Place::kIretStub:
      f = reinterpret_cast<const desc::IretFrame*>(r.rsp);
      break;
    case Monitor::Place::kTlbGate:
      // Stopped inside the flush gate: the flush may not have happened. The
      // state is the one before the `int`, which runs again when the guest
      // resumes there (a second flush is harmless; RAX is the gate's).
      f = slot_->cpu.iret_frame();
      tf->rip = f->rip - Monitor::kIntInsnBytes;
      tf->rsp = f->rsp;
      tf->rflags = f->rflags;
      return;
    case Monitor::Place::kGateEntry:
      // Not saved yet: the registers are the CPU's, and the CPU's frame is the
      // state before the fault (which the guest raises again if sent there),
      // or, for a trap return, before its `out`.
      f = slot_->cpu.iret_frame();
      break;
    case Monitor::Place::kGateSaved: {
      const GateFrame* g = gate_frame_at(slot_->cpu.mem.start());
      gate_regs(g->regs, tf);
      f = &g->iret;
      break;
    }
    case Monitor::Place::kGateCommit: {
      const GateOut* g = gate_out_at(slot_->cpu.mem.start());
      gate_regs(g->regs, tf);
      f = &g->iret;
      break;
    }
    default:
      tf->rip = r.rip;
      tf->rsp = r.rsp;
      tf->rflags = r.rflags;
      return;
  }
  tf->rip = f->rip;
  tf->rsp = f->rsp;
  tf->rflags = f->rflags;
}

void GuestThread::resume(const dune_tf& tf) {
  bool ring0 = in_ring0();
  kvm_regs& r = vcpu().regs();
  r.rax = tf.rax; r.rbx = tf.rbx; r.rcx = tf.rcx; r.rdx = tf.rdx;
  r.rsi = tf.rsi; r.rdi = tf.rdi; r.rbp = tf.rbp;
  r.r8 = tf.r8; r.r9 = tf.r9; r.r10 = tf.r10; r.r11 = tf.r11;
  r.r12 = tf.r12; r.r13 = tf.r13; r.r14 = tf.r14; r.r15 = tf.r15;
  uint64_t flags = (tf.rflags & Monitor::kUserFlagsMask) | Monitor::kFlagsFixed;
  if (ring0) {
    // From ring 0 only an iret reaches ring 3 (a host write of CS would not be
    // accepted by every flavour): write the frame, point the guest at iretq.
    desc::IretFrame* f = slot_->cpu.iret_frame();
    f->rip = tf.rip;
    f->cs = desc::kUserCs;
    f->rflags = flags;
    f->rsp = tf.rsp;
    f->ss = desc::kUserDs;
    r.rsp = reinterpret_cast<uint64_t>(f);
    r.rip = Monitor::iret_stub();
    r.rflags = Monitor::kFlagsFixed & ~0x200ull;
  } else {
    r.rip = tf.rip;
    r.rsp = tf.rsp;
    r.rflags = flags;
  }
  vcpu().mark_regs_dirty();
}

void GuestThread::finish_syscall(long result) {
  kvm_regs& r = vcpu().regs();
  r.rax = static_cast<uint64_t>(result);
  if (!rt_->traits.return_by_sysret()) {
    // Landed in ring 3 (PVM): sysretq would fault there, so return by hand,
    // with the registers sysret would load.
    r.rip = r.rcx;
    r.rflags = (r.r11 & Monitor::kUserFlagsMask) | Monitor::kFlagsFixed;
  }
  // Ring 0 (hardware): RIP stays past the stub's `out` (taken by on_io), on sysretq.
  vcpu().mark_regs_dirty();
}


}  // namespace dune
