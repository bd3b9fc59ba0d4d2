#include "signals/signal_delivery.h"

#include <signal.h>

#include <cstddef>
#include <cstring>

#include "base/host_arena.h"
#include "base/log.h"
#include "debug/debug_stop.h"
#include "kvm/fpu_state.h"
#include "kvm/host_cpu.h"
#include "runtime/guest_memory.h"
#include "runtime/guest_thread.h"
#include "runtime/runtime.h"
#include "signals/fatal_signal.h"
#include "signals/host_signals.h"
#include "signals/signal_frame.h"
#include "trace/events.h"

namespace dune {

namespace {

constexpr uint64_t kFlagTf = 1ull << 8;
constexpr uint64_t kFlagDf = 1ull << 10;
constexpr uint64_t kFlagRf = 1ull << 16;

// Bytes of the FPU image in a frame: XSAVE of the enabled features, or FXSAVE.
uint32_t fpu_image_bytes() {
  const HostCpu& cpu = host_cpu();
  return cpu.has_xsave ? cpu.xsave_size : fpu::kLegacyBytes;
}

// A scratch XSAVE buffer of the size KVM fills, from the library's allocator.
class XsaveBuffer {
 public:
  explicit XsaveBuffer(size_t size) : size_(size) {
    data_ = static_cast<uint8_t*>(host_arena()->allocate(size, 64));
    std::memset(data_, 0, size);
  }
  ~XsaveBuffer() { host_arena()->deallocate(data_, size_, 64); }
  XsaveBuffer(const XsaveBuffer&) = delete;
  XsaveBuffer& operator=(const XsaveBuffer&) = delete;
  uint8_t* data() { return data_; }

 private:
  uint8_t* data_;
  size_t size_;
};

// The FPU state a handler starts with, as Linux gives it: the init state.
void load_init_fpu(GuestThread& t) {
  XsaveBuffer init(t.rt().xsave_size);
  uint16_t fcw = 0x37f;
  uint32_t mxcsr = 0x1f80;
  std::memcpy(init.data(), &fcw, sizeof fcw);
  std::memcpy(init.data() + 24, &mxcsr, sizeof mxcsr);
  fpu::mark_legacy_state(init.data());
  (void)t.vcpu().set_xsave(init.data());
}

void emit_signal(const dune_tf& at, const siginfo_t& info, uint64_t handler) {
  if (!trace::wanted(DUNE_EV_SIGNAL)) return;
  dune_event ev{};
  ev.kind = DUNE_EV_SIGNAL;
  ev.regs = &at;
  ev.u.signal.signo = info.si_signo;
  ev.u.signal.code = info.si_code;
  ev.u.signal.addr = reinterpret_cast<uint64_t>(info.si_addr);
  ev.u.signal.handler = handler;
  trace::emit(ev);
}

// Builds the frame for `info` interrupting `at` and points the guest at the
// handler. base: the mask the handler's mask is built on; saved: the mask
// sigreturn restores. False if the frame cannot be written (Linux then kills
// with SIGSEGV).
bool setup_frame(GuestThread& t, const dune_tf& at, const siginfo_t& info, const KernelSigaction& act,
                 uint64_t base, uint64_t saved, const FaultSignal* fault) {
  Runtime& rt = t.rt();
  int sig = info.si_signo;
  // x86-64 frames return through sa_restorer; without one Linux refuses.
  if (!(act.flags & kSaRestorer) || !act.restorer) return false;
  const HostCpu& cpu = host_cpu();
  uint32_t image = fpu_image_bytes();
  uint32_t fpu_bytes = image + (cpu.has_xsave ? sizeof(uint32_t) : 0);
  AltStack& alt = t.altstack();
  SignalFrameLayout l = signal_frame_layout(at.rsp, alt, act.flags & SA_ONSTACK, fpu_bytes);
  if (l.overflow || !rt.mm->guest_can_write(l.frame, l.fpstate + fpu_bytes)) return false;

  XsaveBuffer fpu_state(rt.xsave_size);
  if (!t.vcpu().get_xsave(fpu_state.data(), rt.xsave_size)) return false;
  if (cpu.has_xsave) mark_xstate_frame(fpu_state.data(), image, cpu.xcr0);
  if (!copy_to_guest(l.fpstate, fpu_state.data(), fpu_bytes)) return false;

  RtSigframe f{};
  f.pretcode = act.restorer;
  f.uc.flags = kUcSigcontextSs | kUcStrictRestoreSs | (cpu.has_xsave ? kUcFpXstate : 0);
  f.uc.stack = KStack{alt.sp, alt.flags, 0, alt.size};
  KSigcontext& m = f.uc.mcontext;
  m.r8 = at.r8; m.r9 = at.r9; m.r10 = at.r10; m.r11 = at.r11;
  m.r12 = at.r12; m.r13 = at.r13; m.r14 = at.r14; m.r15 = at.r15;
  m.rdi = at.rdi; m.rsi = at.rsi; m.rbp = at.rbp; m.rbx = at.rbx;
  m.rdx = at.rdx; m.rax = at.rax; m.rcx = at.rcx; m.rsp = at.rsp;
  m.rip = at.rip; m.eflags = at.rflags;
  m.cs = desc::kUserCs;
  m.ss = desc::kUserDs;
  if (fault) {
    m.err = fault->err;
    m.trapno = fault->trapno;
    m.cr2 = fault->cr2;
  }
  m.oldmask = saved;
  m.fpstate = l.fpstate;
  f.uc.sigmask = saved;
  f.info = info;
  if (!copy_to_guest(l.frame, &f, sizeof f)) return false;

  set_program_sigmask(t, base | act.mask | ((act.flags & SA_NODEFER) ? 0 : sigbit(sig)));
  if (act.flags & SA_RESETHAND) {
    t.sigtable().set(sig, reset_to_default(act));
    (void)install_host_action(sig, reset_to_default(act));
  }
  // kSsAutodisarm: the stack is off while the handler runs on it (the frame
  // keeps the settings sigreturn puts back).
  if (l.on_altstack && (alt.flags & kSsAutodisarm)) alt = AltStack{};
  load_init_fpu(t);

  dune_tf call = at;
  call.rdi = static_cast<uint64_t>(sig);
  call.rsi = l.frame + offsetof(RtSigframe, info);
  call.rdx = l.frame + offsetof(RtSigframe, uc);
  call.rax = 0;
  call.rip = act.handler;
  call.rsp = l.frame;
  call.rflags = at.rflags & ~(kFlagDf | kFlagRf | kFlagTf);
  t.resume(call);
  ++t.stats().signals;
  emit_signal(at, info, act.handler);
  return true;
}

// Linux's force_sigsegv after a frame for `failed` could not be written: a
// SIGSEGV the program catches comes instead (SI_KERNEL, on the same state and
// masks); one it blocks, ignores or lets kill, or a SIGSEGV whose own frame
// failed, kills. False if the program is to die.
bool frame_failed_sigsegv(GuestThread& t, const dune_tf& at, int failed, uint64_t base, uint64_t saved) {
  if (failed == SIGSEGV || !fault_signal_catchable(t, SIGSEGV)) return false;
  KernelSigaction act = t.sigtable().get(SIGSEGV);
  siginfo_t info{};
  info.si_signo = SIGSEGV;
  info.si_code = SI_KERNEL;
  return setup_frame(t, at, info, act, base, saved, nullptr);
}

}  // namespace

uint64_t program_sigmask(GuestThread& t) {
  // The host thread's mask is the program's, but for the signals waiting in
  // the queue (blocked only while they wait) and while the thread holds
  // signals back for a full queue (the program's mask is kept aside then).
  const SignalQueue& q = t.pending_signals();
  return q.holding() ? q.held_mask() : (current_sigmask() & ~q.waiting());
}

void set_program_sigmask(GuestThread& t, uint64_t mask) {
  SignalQueue& q = t.pending_signals();
  mask &= ~kUnblockable;
  if (q.holding())
    q.set_held_mask(mask);
  else
    set_sigmask(mask | q.waiting());
}

void release_held_signals(GuestThread& t) {
  // Every signal is blocked while holding: no handler runs in between.
  SignalQueue& q = t.pending_signals();
  uint64_t mask = q.held_mask();
  q.end_hold();
  set_sigmask(mask | q.waiting());  // what the kernel kept comes in now, with room
}

void deliver_pending_signal(GuestThread& t) {
  uint64_t cur = program_sigmask(t);
  siginfo_t info;
  if (!t.pending_signals().pop(&info)) return;
  int sig = info.si_signo;
  KernelSigaction act = t.sigtable().get(sig);
  // After sigsuspend and the like, the handler runs under their mask and
  // sigreturn restores the one from before (the kernel's saved_sigmask).
  uint64_t base = t.temp_mask_set ? t.temp_mask : cur;
  t.temp_mask_set = false;
  if (act.handler <= 1 || (base & sigbit(sig))) {
    // The program changed its mind (SIG_IGN, SIG_DFL), or blocks it now: the
    // kernel takes it back, to drop, to act on, or pending.
    if (act.handler != reinterpret_cast<uint64_t>(SIG_IGN)) requeue_signal(info);
    set_program_sigmask(t, cur);  // no longer waiting: unblocked unless the program blocks it
    return;
  }
  if (debug::attached()) {
    debug::SignalVerdict v = debug::on_program_signal(t, info);
    if (!v.deliver) {
      // Another thread's stop was reported: this signal comes again later.
      if (!v.reported) requeue_signal(info);
      set_program_sigmask(t, cur);
      return;
    }
  }
  dune_tf at;
  t.user_state(&at);
  log::debug("signal {} for thread {}: handler {:#x} at rip={:#x} rsp={:#x}", sig, t.tid(), act.handler,
             uint64_t{at.rip}, uint64_t{at.rsp});
  if (!setup_frame(t, at, info, act, base, cur, nullptr) && !frame_failed_sigsegv(t, at, sig, base, cur)) {
    log::info("signal {}: no room for its frame at rsp={:#x}: killed by SIGSEGV", sig, uint64_t{at.rsp});
    die_with_signal(SIGSEGV);
  }
}

bool fault_signal_catchable(GuestThread& t, int signo) {
  // Linux forces a fault's signal: blocked or ignored means killed.
  return t.sigtable().get(signo).handler > 1 && !(program_sigmask(t) & sigbit(signo));
}

bool deliver_fault_signal(GuestThread& t, const FaultSignal& f) {
  if (!fault_signal_catchable(t, f.signo)) return false;
  KernelSigaction act = t.sigtable().get(f.signo);
  uint64_t cur = program_sigmask(t);
  siginfo_t info{};
  info.si_signo = f.signo;
  info.si_code = f.code;
  info.si_addr = reinterpret_cast<void*>(f.addr);
  dune_tf at;
  t.user_state(&at);
  if (setup_frame(t, at, info, act, cur, cur, &f) || frame_failed_sigsegv(t, at, f.signo, cur, cur)) return true;
  log::info("signal {}: no room for its frame at rsp={:#x}", f.signo, uint64_t{at.rsp});
  return false;
}

bool restore_signal_frame(GuestThread& t) {
  Runtime& rt = t.rt();
  dune_tf at;
  t.user_state(&at);
  uint64_t frame_addr = at.rsp - 8;  // the handler's ret popped pretcode
  RtSigframe f;
  if (!copy_from_guest(&f, frame_addr, sizeof f)) return false;
  const KSigcontext& m = f.uc.mcontext;

  const HostCpu& cpu = host_cpu();
  XsaveBuffer fpu_state(rt.xsave_size);
  if (m.fpstate) {
    uint32_t image = fpu_image_bytes();
    uint32_t bytes = image + (cpu.has_xsave ? sizeof(uint32_t) : 0);
    if (!copy_from_guest(fpu_state.data(), m.fpstate, bytes)) return false;
    if (!cpu.has_xsave || !has_xstate_frame(fpu_state.data(), image)) {
      // Only the legacy FXSAVE part is meaningful: x87 and SSE.
      std::memset(fpu_state.data() + fpu::kHeaderOffset, 0, 64);
      fpu::mark_legacy_state(fpu_state.data());
    }
    std::memset(fpu_state.data() + image, 0, rt.xsave_size - image);
    std::memset(fpu_state.data() + fpu::kHeaderOffset + 8, 0, 8);  // XCOMP_BV: standard layout
    if (!t.vcpu().set_xsave(fpu_state.data())) return false;
  } else {
    load_init_fpu(t);
  }
  set_program_sigmask(t, f.uc.sigmask);
  // sigreturn puts back the sigaltstack of the frame, ignoring a bad one.
  const KStack& s = f.uc.stack;
  if (s.flags & SS_DISABLE)
    t.altstack() = AltStack{};
  else if (s.size >= kKernelMinSigStackSize)
    t.altstack() = AltStack{s.sp, s.size, s.flags & kSsAutodisarm};

  dune_tf tf{};
  tf.r8 = m.r8; tf.r9 = m.r9; tf.r10 = m.r10; tf.r11 = m.r11;
  tf.r12 = m.r12; tf.r13 = m.r13; tf.r14 = m.r14; tf.r15 = m.r15;
  tf.rdi = m.rdi; tf.rsi = m.rsi; tf.rbp = m.rbp; tf.rbx = m.rbx;
  tf.rdx = m.rdx; tf.rax = m.rax; tf.rcx = m.rcx; tf.rsp = m.rsp;
  tf.rip = m.rip;
  tf.rflags = m.eflags;
  t.resume(tf);
  return true;
}

}  // namespace dune
