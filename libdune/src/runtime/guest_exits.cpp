// guest_exits.cpp - what a guest thread does with each VM exit: the monitor's
// reports (syscalls, exceptions, trap returns, hypercalls), host memory
// refusals, interrupted runs and the exits that end the process.

#include "base/log.h"
#include "debug/debug_stop.h"
#include "monitor/ports.h"
#include "runtime/guest_memory.h"
#include "runtime/guest_thread.h"
#include "runtime/hypercall.h"
#include "runtime/runtime.h"
#include "runtime/traps.h"
#include "signals/fatal_signal.h"
#include "syscalls/dispatch.h"

namespace dune {

namespace {

const char* exit_reason_name(uint32_t r) {
  switch (r) {
    case KVM_EXIT_UNKNOWN: return "unknown";
    case KVM_EXIT_EXCEPTION: return "exception";
    case KVM_EXIT_IO: return "io";
    case KVM_EXIT_HLT: return "hlt";
    case KVM_EXIT_MMIO: return "mmio";
    case KVM_EXIT_SHUTDOWN: return "shutdown (triple fault)";
    case KVM_EXIT_FAIL_ENTRY: return "failed entry";
    case KVM_EXIT_INTR: return "interrupted";
    case KVM_EXIT_INTERNAL_ERROR: return "internal error";
    case KVM_EXIT_DEBUG: return "debug";
    default: return "other";
  }
}

// Where the monitor's `out` for port is (0: no such port). Exception ports are
// reported from their stubs, the others from one instruction each.
uint64_t monitor_out_for(uint32_t port) {
  if (port == DUNE_PORT_SYSCALL) return Monitor::syscall_landing();
  if (port == DUNE_PORT_TRAP_RETURN) return Monitor::trap_return_out();
  if (port == DUNE_PORT_HYPERCALL) return reinterpret_cast<uint64_t>(dune_hypercall_out);
  int vector = Monitor::vector_of_port(port);
  return vector >= 0 ? Monitor::exception_stub(vector) : 0;
}

// Whether this I/O exit is the monitor reporting: a one-byte `out` to its
// port from its own instruction (RIP on it, or past it where the hypervisor
// steps over it first, PVM). A program's own `in`/`out` to the library's
// ports (allowed to ring 3 by the TSS's I/O bitmap, for the ring-3 stubs)
// must not drive the library.
bool from_monitor(const kvm_run& run, uint64_t rip) {
  if (run.io.direction != KVM_EXIT_IO_OUT || run.io.size != 1 || run.io.count != 1) return false;
  uint64_t at = monitor_out_for(run.io.port);
  return at && (rip == at || rip == at + Monitor::kOutBytes);
}

}  // namespace

uint32_t GuestThread::on_exit(long rc) {
  if (rc < 0) {
    on_run_error(rc);
    return 0;
  }
  kvm_run* run = vcpu().run();
  switch (run->exit_reason) {
    case KVM_EXIT_IO: {
      // Read first: a forked child's handling replaces the vCPU, run structure included.
      uint32_t port = run->io.port;
      // (A sandbox's own `out` is refused by the sandbox's rules in on_io.)
      if (!sandbox.active && !from_monitor(*run, vcpu().regs().rip)) {
        on_program_port_io();
        return port;
      }
      on_io(port);
      return port;
    }
    case KVM_EXIT_MMIO:
      on_mmio();
      return 0;
    case kvm::kExitMemoryFault:
      on_memory_fault();
      return 0;
    case KVM_EXIT_DEBUG:
      // Only with gdb's hardware breakpoints on (debug/hw_breakpoints.h).
      debug::on_debug_exit(*this, run->debug.arch.dr6);
      return 0;
    default:
      on_unexpected_exit(exit_reason_name(run->exit_reason));
  }
}

void GuestThread::take_report(uint64_t out_insn) {
  // Hardware KVM and dune.ko stop with RIP on the `out` and step over it at
  // the next KVM_RUN only if RIP is unchanged; PVM stops past it. Past it on
  // every flavour, now: then RIP on a reporting `out` always means "not
  // reported yet" (Monitor::Place), and a state saved now (a signal frame, a
  // sandbox's launcher) resumes after the report instead of making it again.
  kvm_regs& r = vcpu().regs();
  if (r.rip != out_insn) return;
  r.rip = out_insn + Monitor::kOutBytes;
  vcpu().mark_regs_dirty();
}

void GuestThread::on_io(uint32_t port) {
  if (port == DUNE_PORT_SYSCALL) {
    take_report(Monitor::syscall_landing());
    stop_for(Stop::kSyscall);
    if (__builtin_expect(!rt_->landing_checked.load(std::memory_order_relaxed), 0))
      check_syscall_landing();
    dispatch_syscall(*this);
    return;
  }
  int vector = Monitor::vector_of_port(port);
  if (vector >= 0) {
    take_report(Monitor::exception_stub(vector));
    stop_for(Stop::kException);
    // The CPU's frame sits at the top of the ring-0 stack, below it the error
    // code where the vector has one.
    exception_.vector = vector;
    exception_.frame = slot_->cpu.iret_frame();
    exception_.error = desc::has_error_code(vector) ? reinterpret_cast<uint64_t*>(exception_.frame)[-1] : 0;
    handle_exception(*this);
    return;
  }
  if (port == DUNE_PORT_TRAP_RETURN) {
    take_report(Monitor::trap_return_out());
    stop_for(Stop::kTrapReturn);
    handle_trap_return(*this);
    return;
  }
  if (port == DUNE_PORT_HYPERCALL) {
    take_report(reinterpret_cast<uint64_t>(dune_hypercall_out));
    stop_for(Stop::kHypercall);
    kvm_regs& r = vcpu().regs();
    long nr = static_cast<long>(r.rax);
    long result = handle_hypercall(*this, nr, r.rdi, r.rsi, r.rdx);
    // kResumed: the call set the whole guest state itself (dune_jump_to_user,
    // or a forked child whose vCPU is new: its run structure is not this one).
    if (result == kResumed) return;
    if (result == kRestartSyscall) {
      // A syscall the call made for the program (dune_passthrough_syscall) is
      // to be restarted after a signal handler, as the kernel restarts one:
      // the guest makes the call again, with its arguments still in place.
      vcpu().regs().rip = reinterpret_cast<uint64_t>(dune_hypercall_out);
      vcpu().regs().rax = static_cast<uint64_t>(nr);
    } else {
      vcpu().regs().rax = static_cast<uint64_t>(result);
    }
    vcpu().mark_regs_dirty();
    return;
  }
  on_unexpected_exit("I/O to an unknown port");
}

void GuestThread::on_program_port_io() {
  stop_for(Stop::kException);
  dune_tf tf;
  user_state(&tf);
  // Hardware stops on the instruction; PVM past it, which a fault must not be.
  if (rt_->traits.flavour == DUNE_FLAVOUR_PVM) {
    unsigned char before[3] = {};
    if (copy_from_guest(before, tf.rip - 3, 3)) {
      bool imm8 = before[1] == 0xe4 || before[1] == 0xe5 || before[1] == 0xe6 || before[1] == 0xe7;
      unsigned len = imm8 ? 2 : 1;  // in/out with an imm8 port, else the DX forms
      if (before[3 - len - 1] == 0x66) ++len;
      tf.rip -= len;
    }
    resume(tf);
  }
  log::debug("an in/out to port {:#x} at rip={:#x}: not the library's; a #GP, as natively",
             vcpu().run()->io.port, uint64_t{tf.rip});
  // The #GP it is on hardware: whatever handles one (a Dune handler for vector
  // 13, gdb, the program's SIGSEGV handler, or death) handles this.
  exception_ = ExceptionState{};
  exception_.vector = 13;
  handle_exception(*this);
}

void GuestThread::check_syscall_landing() {
  // The flavour said where `syscall` lands; confirm it once, from the code
  // segment the guest is stopped in, and adapt if the hypervisor disagrees.
  kvm_sregs s{};
  if (!vcpu().get_sregs(&s)) return;
  bool ring0 = (s.cs.selector & 3) == 0;
  if (ring0 != rt_->traits.syscall_lands_in_ring0) {
    log::warn("hypervisor '{}': syscall landed at CPL {}, not as expected; adapting",
              dune_flavour_name(rt_->traits.flavour), ring0 ? 0 : 3);
    rt_->traits.syscall_lands_in_ring0 = ring0;
  }
  rt_->landing_checked.store(true, std::memory_order_relaxed);
}

void GuestThread::settle_interrupted_entry() {
  // KVM_RUN was interrupted (a host signal, immediate_exit) and may have
  // stopped the guest on the `out` of a monitor entry: an event happened in
  // the guest that nobody has seen. It must neither be lost nor be taken for
  // one already answered (docs/signals-and-syscalls.md).
  uint64_t rip = vcpu().regs().rip;
  switch (Monitor::place_of(rip)) {
    case Monitor::Place::kSyscallEntry: {
      // The syscall has not run. Back to the syscall instruction, RAX still
      // its number: as natively when a signal comes just before it. After
      // the handlers (or at once) the program makes it, exactly once.
      dune_tf before;
      user_state(&before);
      resume(before);
      ++stats_.syscalls_backed_out;
      return;
    }
    case Monitor::Place::kExceptionEntry:
      // The exception has happened (re-running from its frame would lose a
      // trap such as int3): handle it now, as its `out` would have had it.
      on_io(DUNE_PORT_EXCEPTION + static_cast<uint32_t>(Monitor::vector_at_entry(rip)));
      return;
    default:
      return;
  }
}

void GuestThread::on_mmio() {
  stop_for(Stop::kMemory);
  rt_->counters.host_faults.fetch_add(1, std::memory_order_relaxed);
  kvm_run* run = vcpu().run();
  uint64_t gpa = run->mmio.phys_addr;
  uint32_t len = run->mmio.len <= 8 ? run->mmio.len : 8;
  FaultVerdict v = rt_->mm->on_host_fault(gpa);
  auto hva = rt_->mm->hva_of_gpa(gpa);
  // KVM stopped the instruction to let userspace emulate the access. Where the
  // host can make it now (the mapping changed back, a race), complete it.
  if (hva) {
    if (guest_rw(*hva, run->mmio.data, len, run->mmio.is_write != 0)) return;
  }
  handle_host_fault(*this, hva ? *hva : gpa, run->mmio.is_write, v, host_fault_signal(v, run->mmio.is_write),
                    false);
}

void GuestThread::on_memory_fault() {
  stop_for(Stop::kMemory);
  rt_->counters.host_faults.fetch_add(1, std::memory_order_relaxed);
  auto* mf = reinterpret_cast<kvm::MemoryFaultExit*>(&vcpu().run()->mmio);
  FaultVerdict v = rt_->mm->on_host_fault(mf->gpa);
  const kvm_regs& r = vcpu().regs();
  // Upstream KVM leaves RIP at the instruction: retrying is exact.
  if (v.retry && !retry_would_loop(r.rip, mf->gpa)) return;
  auto hva = rt_->mm->hva_of_gpa(mf->gpa);
  bool is_write = (mf->flags & kvm::kMemoryFaultWrite) != 0;
  handle_host_fault(*this, hva ? *hva : mf->gpa, is_write, v, host_fault_signal(v, is_write), true);
}

void GuestThread::on_run_error(long rc) {
  // EINTR: a host signal (caught for the guest, queued: the loop delivers it).
  if (rc == -EINTR || rc == -EAGAIN) {
    settle_interrupted_entry();
    return;
  }
  if (rc == -EFAULT) {
    // KVM could not reach host memory behind a guest page.
    if (vcpu().run()->exit_reason == kvm::kExitMemoryFault) {
      on_memory_fault();
      return;
    }
    // No address given: re-read the address space and retry, once or twice.
    // If the guest page was stale the retry now faults precisely in the guest;
    // if the same access fails again, the page is mapped and allowed but has
    // nothing behind it (past the end of a file, a poisoned page): SIGBUS.
    stop_for(Stop::kMemory);
    rt_->counters.host_faults.fetch_add(1, std::memory_order_relaxed);
    if (!retry_would_loop(vcpu().regs().rip, 0)) {
      auto lk = rt_->mm->lock();
      (void)rt_->mm->resync_all();
      return;
    }
    handle_host_fault(*this, 0, false, FaultVerdict{}, SIGBUS, true);
    return;
  }
  log::error("fatal: KVM_RUN failed: {}", log::errno_name(static_cast<int>(rc)));
  die_with_signal(SIGSEGV);
}

void GuestThread::on_unexpected_exit(const char* what) {
  kvm_run* run = vcpu().run();
  const kvm_regs& r = vcpu().regs();
  kvm_sregs s{};
  (void)vcpu().get_sregs(&s);
  log::error("fatal: unexpected VM exit: {} (reason {}) at rip={:#x} rsp={:#x} cs={:#x} cr2={:#x}",
             what, run->exit_reason, r.rip, r.rsp, s.cs.selector, s.cr2);
  struct {
    const char* name;
    uint64_t va;
  } places[] = {{"rip", r.rip}, {"rsp", r.rsp}, {"idt", s.idt.base}, {"gdt", s.gdt.base},
                {"tss", s.tr.base}, {"rsp0", slot_->cpu.rsp0() - 8}};
  for (const auto& p : places)
    log::error("  {} {:#x}: guest pte {:#x}", p.name, p.va, rt_->mm->guest_pte(p.va));
  log::error("  cr0={:#x} cr3={:#x} cr4={:#x} efer={:#x} rflags={:#x}", s.cr0, s.cr3, s.cr4, s.efer,
             static_cast<uint64_t>(r.rflags));
  if (run->exit_reason == KVM_EXIT_INTERNAL_ERROR)
    log::error("KVM internal error suberror {}", run->internal.suberror);
  if (run->exit_reason == KVM_EXIT_FAIL_ENTRY)
    log::error("VM entry failed: hardware reason {:#x}",
               static_cast<uint64_t>(run->fail_entry.hardware_entry_failure_reason));
  die_with_signal(SIGSEGV);
}

}  // namespace dune
