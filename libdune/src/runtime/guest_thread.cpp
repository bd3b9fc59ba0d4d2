#include "runtime/guest_thread.h"

#include <sys/uio.h>

#include <csignal>
#include <new>

#include "base/host_arena.h"
#include "base/log.h"
#include "base/own_mappings.h"
#include "kvm/host_cpu.h"
#include "monitor/ports.h"
#include "runtime/entry_context.h"
#include "runtime/hypercall.h"
#include "runtime/runtime.h"
#include "runtime/thread_registry.h"
#include "runtime/traps.h"
#include "classic/sandbox.h"
#include "signals/fatal_signal.h"
#include "signals/signal_delivery.h"
#include "syscalls/dispatch.h"
#include "trace/events.h"

namespace dune {

namespace {

// Static TLS (no allocation on first use): the host signal handler reads it.
__attribute__((tls_model("initial-exec"))) thread_local GuestThread* t_current = nullptr;

constexpr size_t kHostStackBytes = 512 * 1024;
constexpr size_t kGuardBytes = 4096;

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

Result<Mapping> new_host_stack() {
  auto stack = Mapping::anonymous(kHostStackBytes, MAP_NORESERVE | MAP_STACK);
  if (!stack) return Error(stack.error());
  sys::mprotect(stack->get(), kGuardBytes, PROT_NONE);
  return std::move(stack.value());
}

GuestThread* current_guest_thread() { return t_current; }
void set_current_guest_thread(GuestThread* t) { t_current = t; }

Result<GuestThread*> GuestThread::create(Runtime& rt, const GuestStart& start, Mapping* host_stack,
                                         VcpuSlot* slot) {
  void* mem = host_arena()->allocate(sizeof(GuestThread), alignof(GuestThread));
  auto* t = new (mem) GuestThread(rt);
  auto fail = [&](Status s, const char* step) -> Result<GuestThread*> {
    log::error("cannot enter Dune mode: {} failed: {}", step, log::errno_name(s.error()));
    t->release();
    t->~GuestThread();
    host_arena()->deallocate(mem, sizeof(GuestThread), alignof(GuestThread));
    return Error(s.error());
  };
  if (slot) {
    t->slot_ = slot;
  } else {
    auto taken = rt.pool.take(rt);
    if (!taken) return fail(Error(taken.error()), "creating a vCPU");
    t->slot_ = taken.value();
  }
  Status s = t->load(start);
  if (!s) return fail(s, "setting up the vCPU");
  if (host_stack) {
    t->host_stack_ = std::move(*host_stack);
  } else {
    auto stack = new_host_stack();
    if (!stack) return fail(Error(stack.error()), "allocating the host stack");
    t->host_stack_ = std::move(stack.value());
  }
  t->tid_ = static_cast<int>(sys::gettid());
  t->tgid_ = static_cast<int>(sys::getpid());
  return t;
}

Status GuestThread::load(const GuestStart& start) {
  Runtime& rt = *rt_;
  const HostCpu& cpu = host_cpu();
  Vcpu& v = slot_->vcpu;
  kvm_sregs sregs{};
  DUNE_TRY(v.get_sregs(&sregs));
  rt.monitor.fill_sregs(sregs, slot_->cpu, start.cr3 ? start.cr3 : rt.mm->root_gpa(), start.fs_base,
                        start.gs_base);
  sandbox = start.sandbox;
  DUNE_TRY(v.set_sregs(sregs));
  kvm_msr_entry msrs[8];
  DUNE_TRY(v.set_msrs(msrs, fill_msrs(msrs, current_cpu_node())));
  if (cpu.has_xsave) DUNE_TRY(v.set_xcr0(cpu.xcr0));
  // vDSO clock_gettime reads the TSC: the guest's must be the host's.
  DUNE_TRY(v.zero_tsc_offset());
  DUNE_TRY(v.set_xsave(start.xsave));
  kvm_regs regs{};
  const dune_tf& r = start.regs;
  regs.rax = r.rax; regs.rbx = r.rbx; regs.rcx = r.rcx; regs.rdx = r.rdx;
  regs.rsi = r.rsi; regs.rdi = r.rdi; regs.rbp = r.rbp; regs.rsp = r.rsp;
  regs.r8 = r.r8; regs.r9 = r.r9; regs.r10 = r.r10; regs.r11 = r.r11;
  regs.r12 = r.r12; regs.r13 = r.r13; regs.r14 = r.r14; regs.r15 = r.r15;
  regs.rip = r.rip;
  regs.rflags = (r.rflags & Monitor::kUserFlagsMask) | Monitor::kFlagsFixed;
  kvm_run* run = v.run();
  run->kvm_dirty_regs = 0;
  run->immediate_exit = 0;
  DUNE_TRY(v.set_regs(regs));
  altstack_ = start.altstack;
  stacks_ = ThreadStacks{};
  stacks_.anchor = r.rsp;
  return {};
}

Mapping GuestThread::release() {
  if (slot_) rt_->pool.give_back(slot_);
  slot_ = nullptr;
  return std::move(host_stack_);
}

Status GuestThread::reset_after_fork(const GuestStart& start) {
  pending_.clear();
  stats_ = ThreadStats{};
  left_ = 0;
  tid_ = static_cast<int>(sys::gettid());
  tgid_ = static_cast<int>(sys::getpid());
  return load(start);
}

Status GuestThread::set_cr3(uint64_t root_gpa) {
  kvm_sregs s{};
  DUNE_TRY(vcpu().get_sregs(&s));
  if (s.cr3 == root_gpa) return {};
  s.cr3 = root_gpa;
  return vcpu().set_sregs(s);
}

void GuestThread::start() {
  // TLS may be shared with the parent (CLONE_VM without CLONE_SETTLS): only
  // guest-side API calls read it, as "in Dune mode or not"; the host side
  // finds its thread by its stack.
  if (!t_current) t_current = this;
  register_host_stack(host_stack_.start(), host_stack_.end(), this);
  rt_->counters.vcpus.fetch_add(1, std::memory_order_relaxed);
  if (trace::wanted(DUNE_EV_THREAD)) trace::emit_task_start();
  dune_run_on_stack(reinterpret_cast<void*>(host_stack_.end()), &GuestThread::host_main, this);
}

void GuestThread::host_main(void* self) { static_cast<GuestThread*>(self)->run(); }

void GuestThread::run() {
  for (;;) {
    kvm_run* run = vcpu().run();
    // A host signal handler sets immediate_exit so that a signal caught after
    // this check still stops the next KVM_RUN before the guest runs.
    run->immediate_exit = 0;
    if (!pending_.empty()) {
      stop_ = Stop::kNone;
      deliver_pending_signal(*this);
      continue;
    }
    // Registers written through the run structure are applied by KVM_RUN. When
    // it returns EINTR before applying them (a signal already pending; the
    // order varies between kernels), it may overwrite them with the old ones:
    // keep the intended ones to put back.
    bool dirty = run->kvm_dirty_regs & KVM_SYNC_X86_REGS;
    if (dirty) intended_regs_ = run->s.regs.regs;
    uint64_t entered = trace::rdtsc();
    if (left_) stats_.host_cycles += entered - left_;
    long rc = vcpu().enter();
    left_ = trace::rdtsc();
    stats_.guest_cycles += left_ - entered;
    if (rc == -EINTR && dirty && (run->kvm_dirty_regs & KVM_SYNC_X86_REGS)) run->s.regs.regs = intended_regs_;
    uint64_t t0 = trace::wanted(DUNE_EV_VMEXIT) ? left_ : 0;
    ++stats_.exits;
    stop_ = Stop::kNone;
    exception_ = {};
    if (rc == 0 && trace::wanted(DUNE_EV_BADSTACK)) check_guest_stack(*this);
    // The event shows where the guest stood when it exited, not where handling sent it.
    dune_tf exit_state;
    if (t0) user_state(&exit_state);
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
    uint32_t kind;
    if (stop_ == Stop::kNone) {
      kind = rc == -EINTR ? DUNE_EXIT_INTERRUPTED : DUNE_EXIT_OTHER;
      ++stats_.exits_by_kind[kind];
    } else {
      kind = exit_kind_of(stop_);  // counted by stop_for
    }
    if (t0) {
      dune_event ev{};
      ev.kind = DUNE_EV_VMEXIT;
      ev.cycles = trace::rdtsc() - t0;
      ev.u.vmexit.kvm_reason = rc < 0 ? KVM_EXIT_INTR : run->exit_reason;
      ev.u.vmexit.port = port;
      ev.u.vmexit.vector = static_cast<uint32_t>(exception_.vector);
      ev.u.vmexit.exit_kind = kind;
      ev.regs = &exit_state;
      trace::emit(ev);
    }
  }
}

uint32_t GuestThread::exit_kind_of(Stop s) const {
  switch (s) {
    case Stop::kSyscall: return DUNE_EXIT_SYSCALL;
    case Stop::kException: return DUNE_EXIT_EXCEPTION;
    case Stop::kTrapReturn: return DUNE_EXIT_TRAP_RETURN;
    case Stop::kHypercall: return DUNE_EXIT_HYPERCALL;
    case Stop::kMemory: return slot_->vcpu.run()->exit_reason == KVM_EXIT_MMIO ? DUNE_EXIT_MMIO : DUNE_EXIT_MEMORY_FAULT;
    default: return DUNE_EXIT_OTHER;
  }
}

void GuestThread::stop_for(Stop s) {
  stop_ = s;
  // Counted now: some exits never come back to the loop (exit_group, exec, a
  // fatal signal), and the process's report must still count them by reason.
  ++stats_.exits_by_kind[exit_kind_of(s)];
}

void GuestThread::on_io(uint32_t port) {
  if (port == DUNE_PORT_SYSCALL) {
    stop_for(Stop::kSyscall);
    if (__builtin_expect(!rt_->landing_checked.load(std::memory_order_relaxed), 0))
      check_syscall_landing();
    dispatch_syscall(*this);
    return;
  }
  int vector = Monitor::vector_of_port(port);
  if (vector >= 0) {
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
    stop_for(Stop::kTrapReturn);
    handle_trap_return(*this);
    return;
  }
  if (port == DUNE_PORT_HYPERCALL) {
    stop_for(Stop::kHypercall);
    kvm_regs& r = vcpu().regs();
    // Hardware KVM exits with RIP at the `out` and skips it at the next KVM_RUN
    // only if RIP is unchanged; PVM exits past it. Past it on every flavour, so
    // that a state saved now (a sandbox's launcher, a signal frame) and resumed
    // after another exit returns from the call instead of making it again.
    if (r.rip == reinterpret_cast<uint64_t>(dune_hypercall_out)) {
      r.rip = reinterpret_cast<uint64_t>(dune_hypercall_done);
      vcpu().mark_regs_dirty();
    }
    long result = handle_hypercall(*this, static_cast<long>(r.rax), r.rdi, r.rsi, r.rdx);
    // kResumed: the call set the whole guest state itself (dune_jump_to_user,
    // or a forked child whose vCPU is new: its run structure is not this one).
    if (result == kResumed) return;
    vcpu().regs().rax = static_cast<uint64_t>(result);
    vcpu().mark_regs_dirty();
    return;
  }
  on_unexpected_exit("I/O to an unknown port");
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

bool GuestThread::in_ring0() const {
  switch (Monitor::place_of(const_cast<Vcpu&>(slot_->vcpu).regs().rip)) {
    case Monitor::Place::kSyscallLanding: return rt_->traits.syscall_lands_in_ring0;
    case Monitor::Place::kExceptionStub:
    case Monitor::Place::kIretStub: return true;
    default: return false;
  }
}

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
  // RIP says where the guest stands; every ring-0 place is a stub of ours.
  switch (Monitor::place_of(r.rip)) {
    case Monitor::Place::kSyscallLanding:
      // The state sysret returns to: after the syscall instruction.
      tf->rip = r.rcx;
      tf->rflags = r.r11;
      tf->rsp = r.rsp;
      return;
    case Monitor::Place::kExceptionStub:
      f = slot_->cpu.iret_frame();
      break;
    case Monitor::Place::kIretStub:
      f = reinterpret_cast<const desc::IretFrame*>(r.rsp);
      break;
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
  // Ring 0 (hardware): RIP stays at the stub, which goes on to sysretq.
  vcpu().mark_regs_dirty();
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
  if (trace::wanted(DUNE_EV_THREAD)) trace::emit_task_end(false, status, 0);
  rt_->counters.vcpus.fetch_sub(1, std::memory_order_relaxed);
  if (tgid_ == rt_->pid) rt_->retire_stats(stats_);
  release_sandbox_stack(*this);
  unregister_host_stack(this);
  if (t_current == this) t_current = nullptr;
  // A vfork child's parent takes its vCPU and stack back once it resumes.
  if (vfork_child) {
    for (;;) sys::syscall6(SYS_exit, status);
  }
  Mapping stack = release();
  size_t len = stack.size();
  void* base = stack.release();
  own_mappings::forget(reinterpret_cast<uint64_t>(base));
  this->~GuestThread();
  host_arena()->deallocate(this, sizeof(GuestThread), alignof(GuestThread));
  dune_unmap_and_exit(base, len, status);
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
    iovec local{run->mmio.data, len};
    iovec remote{reinterpret_cast<void*>(*hva), len};
    long r = run->mmio.is_write
                 ? sys::syscall6(SYS_process_vm_writev, sys::getpid(), reinterpret_cast<long>(&local), 1,
                                 reinterpret_cast<long>(&remote), 1, 0)
                 : sys::syscall6(SYS_process_vm_readv, sys::getpid(), reinterpret_cast<long>(&local), 1,
                                 reinterpret_cast<long>(&remote), 1, 0);
    if (r == static_cast<long>(len)) return;
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
  if (rc == -EINTR || rc == -EAGAIN) return;
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
