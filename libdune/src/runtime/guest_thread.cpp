#include "runtime/guest_thread.h"

#include <sys/uio.h>

#include <csignal>
#include <new>

#include "base/host_arena.h"
#include "base/log.h"
#include "base/own_mappings.h"
#include "kvm/host_cpu.h"
#include "monitor/ports.h"
#include "runtime/runtime.h"
#include "runtime/traps.h"
#include "signals/fatal_signal.h"
#include "syscalls/dispatch.h"
#include "trace/events.h"

namespace dune {

namespace {

thread_local GuestThread* t_current = nullptr;

constexpr size_t kHostStackBytes = 512 * 1024;
constexpr size_t kGuardBytes = 4096;
constexpr uint64_t kArchGetFs = 0x1003;
constexpr uint64_t kArchGetGs = 0x1004;

// The exit KVM reports for a refused access with KVM_CAP_MEMORY_FAULT_INFO (newer
// than Debian 12's headers): it overlays the exit union.
struct MemoryFaultExit {
  uint64_t flags;
  uint64_t gpa;
  uint64_t size;
};

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

uint32_t current_cpu_node() {
  unsigned cpu = 0, node = 0;
  sys::syscall6(SYS_getcpu, reinterpret_cast<long>(&cpu), reinterpret_cast<long>(&node), 0);
  return (node << 12) | (cpu & 0xfff);
}

}  // namespace

GuestThread* current_guest_thread() { return t_current; }

Result<GuestThread*> GuestThread::create(Runtime& rt, const EntryContext& ctx, const void* xsave) {
  void* mem = host_arena()->allocate(sizeof(GuestThread), alignof(GuestThread));
  auto* t = new (mem) GuestThread(rt);
  auto fail = [&](Status s, const char* step) -> Result<GuestThread*> {
    log::error("cannot enter Dune mode: {} failed: {}", step, log::errno_name(s.error()));
    t->release();
    t->~GuestThread();
    host_arena()->deallocate(mem, sizeof(GuestThread), alignof(GuestThread));
    return Error(s.error());
  };

  const HostCpu& cpu = host_cpu();
  int id = rt.next_vcpu_id.fetch_add(1, std::memory_order_relaxed);
  auto vcpu = Vcpu::create(rt.vm.fd(), id, rt.kvm.vcpu_mmap_size());
  if (!vcpu) return fail(Error(vcpu.error()), "creating a vCPU");
  t->vcpu_ = std::move(vcpu.value());
  t->vcpu_.use_fpu_ioctls(rt.fpu_ioctls);
  // The guest sees the host's CPU as it is; the CPUID table also decides which
  // CR4 bits and XSAVE features KVM accepts below.
  Status s = t->vcpu_.set_cpuid(cpu.cpuid);
  if (!s) return fail(s, "KVM_SET_CPUID2");

  uint32_t node = current_cpu_node();
  auto block = rt.monitor.make_cpu_block(*rt.mm, node);
  if (!block) return fail(Error(block.error()), "building the vCPU's GDT and TSS");
  t->cpu_ = std::move(block.value());

  kvm_sregs sregs{};
  s = t->vcpu_.get_sregs(&sregs);
  if (!s) return fail(s, "KVM_GET_SREGS");
  uint64_t fs = 0, gs = 0;
  sys::syscall6(SYS_arch_prctl, kArchGetFs, reinterpret_cast<long>(&fs));
  sys::syscall6(SYS_arch_prctl, kArchGetGs, reinterpret_cast<long>(&gs));
  rt.monitor.fill_sregs(sregs, t->cpu_, rt.mm->root_gpa(), fs, gs);
  s = t->vcpu_.set_sregs(sregs);
  if (!s) return fail(s, "KVM_SET_SREGS");

  kvm_msr_entry msrs[8];
  uint32_t n = fill_msrs(msrs, node);
  s = t->vcpu_.set_msrs(msrs, n);
  if (!s) return fail(s, "KVM_SET_MSRS");
  if (cpu.has_xsave) {
    s = t->vcpu_.set_xcr0(cpu.xcr0);
    if (!s) return fail(s, "KVM_SET_XCRS");
  }
  // vDSO clock_gettime reads the TSC: the guest's must be the host's.
  s = t->vcpu_.zero_tsc_offset();
  if (!s) return fail(s, "setting the guest TSC");
  s = t->vcpu_.set_xsave(xsave);
  if (!s) return fail(s, "KVM_SET_XSAVE");

  kvm_regs regs{};
  regs.rbx = ctx.rbx;
  regs.rbp = ctx.rbp;
  regs.r12 = ctx.r12;
  regs.r13 = ctx.r13;
  regs.r14 = ctx.r14;
  regs.r15 = ctx.r15;
  regs.rsp = ctx.rsp;
  regs.rip = ctx.rip;
  regs.rax = 0;  // dune_enter() returns 0 in Dune mode
  regs.rflags = (ctx.rflags & Monitor::kUserFlagsMask) | Monitor::kFlagsFixed;
  s = t->vcpu_.set_regs(regs);
  if (!s) return fail(s, "KVM_SET_REGS");

  auto stack = Mapping::anonymous(kHostStackBytes, MAP_NORESERVE | MAP_STACK);
  if (!stack) return fail(Error(stack.error()), "allocating the host stack");
  sys::mprotect(stack->get(), kGuardBytes, PROT_NONE);
  t->host_stack_ = std::move(stack.value());
  t->tid_ = static_cast<int>(sys::gettid());
  return t;
}

void GuestThread::release() {
  if (vcpu_.fd() >= 0) vcpu_ = Vcpu();
  if (cpu_.mem.get()) rt_->mm->release_monitor(std::move(cpu_.mem));
}

void GuestThread::start() {
  t_current = this;
  rt_->counters.vcpus.fetch_add(1, std::memory_order_relaxed);
  if (trace::wanted(DUNE_EV_THREAD)) {
    dune_event ev{};
    ev.kind = DUNE_EV_THREAD;
    ev.u.thread.started = 1;
    trace::emit(ev);
  }
  dune_run_on_stack(reinterpret_cast<void*>(host_stack_.end()), &GuestThread::host_main, this);
}

void GuestThread::host_main(void* self) { static_cast<GuestThread*>(self)->run(); }

void GuestThread::run() {
  kvm_run* run = vcpu_.run();
  for (;;) {
    long rc = vcpu_.enter();
    uint64_t t0 = trace::wanted(DUNE_EV_VMEXIT) ? trace::rdtsc() : 0;
    rt_->counters.vm_exits.fetch_add(1, std::memory_order_relaxed);
    stop_ = Stop::kNone;
    exception_ = {};
    uint32_t port = 0;
    if (rc < 0) {
      on_run_error(rc);
    } else {
      switch (run->exit_reason) {
        case KVM_EXIT_IO:
          port = run->io.port;
          on_io(port);
          break;
        case KVM_EXIT_MMIO:
          on_mmio();
          break;
        case kvm::kExitMemoryFault:
          on_memory_fault();
          break;
        default:
          on_unexpected_exit(exit_reason_name(run->exit_reason));
      }
    }
    if (t0) {
      dune_event ev{};
      ev.kind = DUNE_EV_VMEXIT;
      ev.cycles = trace::rdtsc() - t0;
      ev.u.vmexit.kvm_reason = rc < 0 ? KVM_EXIT_INTR : run->exit_reason;
      ev.u.vmexit.port = port;
      ev.u.vmexit.vector = static_cast<uint32_t>(exception_.vector);
      switch (stop_) {
        case Stop::kSyscall: ev.u.vmexit.exit_kind = DUNE_EXIT_SYSCALL; break;
        case Stop::kException: ev.u.vmexit.exit_kind = DUNE_EXIT_EXCEPTION; break;
        case Stop::kTrapReturn: ev.u.vmexit.exit_kind = DUNE_EXIT_TRAP_RETURN; break;
        case Stop::kHypercall: ev.u.vmexit.exit_kind = DUNE_EXIT_HYPERCALL; break;
        case Stop::kMemory:
          ev.u.vmexit.exit_kind = run->exit_reason == KVM_EXIT_MMIO ? DUNE_EXIT_MMIO : DUNE_EXIT_MEMORY_FAULT;
          break;
        default: ev.u.vmexit.exit_kind = rc == -EINTR ? DUNE_EXIT_INTERRUPTED : DUNE_EXIT_OTHER;
      }
      dune_tf tf;
      capture(&tf);
      ev.regs = &tf;
      trace::emit(ev);
    }
  }
}

void GuestThread::on_io(uint32_t port) {
  if (port == DUNE_PORT_SYSCALL) {
    stop_ = Stop::kSyscall;
    stopped_in_ring0_ = rt_->traits.syscall_lands_in_ring0;
    if (__builtin_expect(!rt_->landing_checked.load(std::memory_order_relaxed), 0))
      check_syscall_landing();
    on_syscall();
    return;
  }
  int vector = Monitor::vector_of_port(port);
  if (vector >= 0) {
    stop_ = Stop::kException;
    stopped_in_ring0_ = true;
    // The CPU's frame sits at the top of the ring-0 stack, below it the error
    // code where the vector has one.
    exception_.vector = vector;
    exception_.frame = cpu_.iret_frame();
    exception_.error = desc::has_error_code(vector) ? reinterpret_cast<uint64_t*>(exception_.frame)[-1] : 0;
    handle_exception(*this);
    return;
  }
  if (port == DUNE_PORT_TRAP_RETURN) {
    stop_ = Stop::kTrapReturn;
    stopped_in_ring0_ = false;
    handle_trap_return(*this);
    return;
  }
  if (port == DUNE_PORT_HYPERCALL) {
    stop_ = Stop::kHypercall;
    stopped_in_ring0_ = false;
    vcpu_.regs().rax = static_cast<uint64_t>(-ENOSYS);
    vcpu_.mark_regs_dirty();
    return;
  }
  on_unexpected_exit("I/O to an unknown port");
}

void GuestThread::check_syscall_landing() {
  // The flavour said where `syscall` lands; confirm it once, from the code
  // segment the guest is stopped in, and adapt if the hypervisor disagrees.
  kvm_sregs s{};
  if (!vcpu_.get_sregs(&s)) return;
  bool ring0 = (s.cs.selector & 3) == 0;
  if (ring0 != rt_->traits.syscall_lands_in_ring0) {
    log::warn("hypervisor '{}': syscall landed at CPL {}, not as expected; adapting",
              dune_flavour_name(rt_->traits.flavour), ring0 ? 0 : 3);
    rt_->traits.syscall_lands_in_ring0 = ring0;
    stopped_in_ring0_ = ring0;
  }
  rt_->landing_checked.store(true, std::memory_order_relaxed);
}

void GuestThread::on_syscall() {
  rt_->counters.syscalls.fetch_add(1, std::memory_order_relaxed);
  dispatch_syscall(*this);
}

void GuestThread::capture(dune_tf* tf) const {
  const kvm_regs& r = const_cast<Vcpu&>(vcpu_).regs();
  tf->rax = r.rax; tf->rbx = r.rbx; tf->rcx = r.rcx; tf->rdx = r.rdx;
  tf->rsi = r.rsi; tf->rdi = r.rdi; tf->rbp = r.rbp;
  tf->r8 = r.r8; tf->r9 = r.r9; tf->r10 = r.r10; tf->r11 = r.r11;
  tf->r12 = r.r12; tf->r13 = r.r13; tf->r14 = r.r14; tf->r15 = r.r15;
  tf->cs = desc::kUserCs;
  tf->ss = desc::kUserDs;
  tf->err = 0;
  tf->vector = 0;
  switch (stop_) {
    case Stop::kException:
      tf->rip = exception_.frame->rip;
      tf->rsp = exception_.frame->rsp;
      tf->rflags = exception_.frame->rflags;
      tf->cs = static_cast<uint16_t>(exception_.frame->cs);
      tf->ss = static_cast<uint16_t>(exception_.frame->ss);
      tf->err = static_cast<uint32_t>(exception_.error);
      tf->vector = static_cast<uint32_t>(exception_.vector);
      break;
    case Stop::kSyscall:
      // The state sysret returns to: after the syscall instruction.
      tf->rip = r.rcx;
      tf->rflags = r.r11;
      tf->rsp = r.rsp;
      break;
    default:
      tf->rip = r.rip;
      tf->rsp = r.rsp;
      tf->rflags = r.rflags;
  }
}

void GuestThread::resume(const dune_tf& tf) {
  kvm_regs& r = vcpu_.regs();
  r.rax = tf.rax; r.rbx = tf.rbx; r.rcx = tf.rcx; r.rdx = tf.rdx;
  r.rsi = tf.rsi; r.rdi = tf.rdi; r.rbp = tf.rbp;
  r.r8 = tf.r8; r.r9 = tf.r9; r.r10 = tf.r10; r.r11 = tf.r11;
  r.r12 = tf.r12; r.r13 = tf.r13; r.r14 = tf.r14; r.r15 = tf.r15;
  uint64_t flags = (tf.rflags & Monitor::kUserFlagsMask) | Monitor::kFlagsFixed;
  if (stopped_in_ring0_) {
    // From ring 0 only an iret reaches ring 3 (a host write of CS would not be
    // accepted by every flavour): write the frame, point the guest at iretq.
    desc::IretFrame* f = cpu_.iret_frame();
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
  vcpu_.mark_regs_dirty();
}

void GuestThread::finish_syscall(long result) {
  kvm_regs& r = vcpu_.regs();
  r.rax = static_cast<uint64_t>(result);
  if (!rt_->traits.return_by_sysret()) {
    // Landed in ring 3 (PVM): sysretq would fault there, so return by hand,
    // with the registers sysret would load.
    r.rip = r.rcx;
    r.rflags = (r.r11 & Monitor::kUserFlagsMask) | Monitor::kFlagsFixed;
  }
  // Ring 0 (hardware): RIP stays at the stub, which goes on to sysretq.
  vcpu_.mark_regs_dirty();
}

bool GuestThread::retry_would_loop(uint64_t rip, uint64_t addr) {
  if (rip == retried_rip_ && addr == retried_addr_) {
    if (++retries_ > 2) {
      retries_ = 0;
      return true;
    }
  } else {
    retried_rip_ = rip;
    retried_addr_ = addr;
    retries_ = 1;
  }
  return false;
}

void GuestThread::exit_thread(int status) {
  if (trace::wanted(DUNE_EV_THREAD)) {
    dune_event ev{};
    ev.kind = DUNE_EV_THREAD;
    ev.u.thread.started = 0;
    ev.u.thread.status = status;
    trace::emit(ev);
  }
  rt_->counters.vcpus.fetch_sub(1, std::memory_order_relaxed);
  t_current = nullptr;
  size_t len = host_stack_.size();
  void* stack = host_stack_.release();
  own_mappings::forget(reinterpret_cast<uint64_t>(stack));
  release();
  this->~GuestThread();
  host_arena()->deallocate(this, sizeof(GuestThread), alignof(GuestThread));
  dune_unmap_and_exit(stack, len, status);
}

void GuestThread::on_mmio() {
  stop_ = Stop::kMemory;
  stopped_in_ring0_ = false;
  rt_->counters.host_faults.fetch_add(1, std::memory_order_relaxed);
  kvm_run* run = vcpu_.run();
  uint64_t gpa = run->mmio.phys_addr;
  uint32_t len = run->mmio.len <= 8 ? run->mmio.len : 8;
  FaultVerdict v = rt_->mm->on_host_fault(gpa);
  auto hva = rt_->mm->hva_of_gpa(gpa);
  // KVM stopped the instruction to let userspace emulate the access. Where the
  // host can make it now (the mapping changed back, a race), complete it.
  if (hva) {
    iovec local{run->mmio.data, len};
    iovec remote{reinterpret_cast<void*>(*hva), len};
    long r = run->mmio.is_write
                 ? sys::syscall6(SYS_process_vm_writev, sys::getpid(), reinterpret_cast<long>(&local), 1,
                                 reinterpret_cast<long>(&remote), 1, 0)
                 : sys::syscall6(SYS_process_vm_readv, sys::getpid(), reinterpret_cast<long>(&local), 1,
                                 reinterpret_cast<long>(&remote), 1, 0);
    if (r == static_cast<long>(len)) return;
  }
  handle_host_fault(*this, hva ? *hva : gpa, run->mmio.is_write, host_fault_signal(v, run->mmio.is_write));
}

void GuestThread::on_memory_fault() {
  stop_ = Stop::kMemory;
  stopped_in_ring0_ = false;
  rt_->counters.host_faults.fetch_add(1, std::memory_order_relaxed);
  auto* mf = reinterpret_cast<MemoryFaultExit*>(&vcpu_.run()->mmio);
  FaultVerdict v = rt_->mm->on_host_fault(mf->gpa);
  const kvm_regs& r = vcpu_.regs();
  // Upstream KVM leaves RIP at the instruction: retrying is exact.
  if (v.retry && !retry_would_loop(r.rip, mf->gpa)) return;
  auto hva = rt_->mm->hva_of_gpa(mf->gpa);
  bool is_write = (mf->flags & 1) != 0;
  handle_host_fault(*this, hva ? *hva : mf->gpa, is_write, host_fault_signal(v, is_write));
}

void GuestThread::on_run_error(long rc) {
  if (rc == -EINTR || rc == -EAGAIN) return;
  if (rc == -EFAULT) {
    // KVM could not reach host memory behind a guest page.
    if (vcpu_.run()->exit_reason == kvm::kExitMemoryFault) {
      on_memory_fault();
      return;
    }
    // No address given: re-read the address space and retry, once or twice.
    // If the guest page was stale the retry now faults precisely in the guest;
    // if the same access fails again, the page is mapped and allowed but has
    // nothing behind it (past the end of a file, a poisoned page): SIGBUS.
    stop_ = Stop::kMemory;
    stopped_in_ring0_ = false;
    rt_->counters.host_faults.fetch_add(1, std::memory_order_relaxed);
    if (!retry_would_loop(vcpu_.regs().rip, 0)) {
      auto lk = rt_->mm->lock();
      (void)rt_->mm->resync_all();
      return;
    }
    handle_host_fault(*this, 0, false, SIGBUS);
    return;
  }
  log::error("fatal: KVM_RUN failed: {}", log::errno_name(static_cast<int>(rc)));
  die_with_signal(SIGSEGV);
}

void GuestThread::on_unexpected_exit(const char* what) {
  kvm_run* run = vcpu_.run();
  const kvm_regs& r = vcpu_.regs();
  kvm_sregs s{};
  (void)vcpu_.get_sregs(&s);
  log::error("fatal: unexpected VM exit: {} (reason {}) at rip={:#x} rsp={:#x} cs={:#x} cr2={:#x}",
             what, run->exit_reason, r.rip, r.rsp, s.cs.selector, s.cr2);
  struct {
    const char* name;
    uint64_t va;
  } places[] = {{"rip", r.rip}, {"rsp", r.rsp}, {"idt", s.idt.base}, {"gdt", s.gdt.base},
                {"tss", s.tr.base}, {"rsp0", cpu_.rsp0() - 8}};
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
