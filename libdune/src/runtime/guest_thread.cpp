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
#include "debug/debug_stop.h"
#include "debug/hw_breakpoints.h"
#include "signals/fatal_signal.h"
#include "signals/host_signals.h"
#include "signals/signal_delivery.h"
#include "syscalls/dispatch.h"
#include "trace/events.h"

namespace dune {

namespace {

// Static TLS (no allocation on first use): the host signal handler reads it.
__attribute__((tls_model("initial-exec"))) thread_local GuestThread* t_current = nullptr;

constexpr size_t kHostStackBytes = 512 * 1024;
constexpr size_t kGuardBytes = 4096;

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
  rt.monitor.arm_exception_gate(slot_->cpu, rt.mm->root_gpa());
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
  // The run structure shows them only after a first KVM_RUN: a signal
  // delivered before that (a forked child's) must see them already.
  v.regs() = regs;
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
  rt_->monitor.restore_tr_type(s);
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
  // A thread born with every signal blocked (see task_spawn.cpp) takes the
  // program's mask once its host stack is known to the signal handler.
  if (mask_at_start_) {
    set_sigmask(*mask_at_start_);
    mask_at_start_.reset();
  }
  for (;;) {
    kvm_run* run = vcpu().run();
    // A host signal handler sets immediate_exit so that a signal caught after
    // this check still stops the next KVM_RUN before the guest runs.
    run->immediate_exit = 0;
    // A debugger's stop (gdb's Ctrl-C, another thread's breakpoint): here the
    // ring-3 state is known and may be changed, as for a signal.
    if (__builtin_expect(debug::stop_requested(), 0) && !sandbox.active) debug::park_for_request(*this);
    if (__builtin_expect(debug::hw_generation() != debug_.hw_gen, 0)) debug::sync_hw_breakpoints(*this);
    if (!pending_.empty() && signals_deliverable()) {
      stop_ = Stop::kNone;
      deliver_pending_signal(*this);
      continue;
    }
    // Signals the kernel kept for a full queue come in now.
    if (pending_.holding() && pending_.empty()) {
      release_held_signals(*this);
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
    // The event shows where the guest stood when it exited, not where handling
    // sent it (unless the listener reads no registers: dunetrace -c).
    dune_tf exit_state;
    const bool exit_regs = t0 && trace::regs_wanted();
    if (exit_regs) user_state(&exit_state);
    // Read before handling: a forked child's handling replaces the run structure.
    uint32_t reason = rc < 0 ? KVM_EXIT_INTR : run->exit_reason;
    uint32_t port = on_exit(rc);
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
      // The thread knows who it is: no getpid and gettid per exit.
      ev.pid = tgid();
      ev.tid = tid();
      ev.tsc = trace::rdtsc();
      ev.cycles = ev.tsc - t0;
      ev.u.vmexit.kvm_reason = reason;
      ev.u.vmexit.port = port;
      ev.u.vmexit.vector = static_cast<uint32_t>(exception_.vector);
      ev.u.vmexit.exit_kind = kind;
      ev.regs = exit_regs ? &exit_state : nullptr;
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

bool GuestThread::ready_to_exit() {
  // From here no signal may be taken for this thread: one caught on its way
  // out would be lost with it, where natively the kernel leaves it to the
  // other threads. But one already caught goes to the program first, as if it
  // had come just before the exit.
  uint64_t mask = block_all_signals();
  if ((pending_.empty() && !pending_.holding()) || !signals_deliverable()) return true;
  set_sigmask(mask);
  return false;
}

void GuestThread::exit_thread(int status) {
  (void)block_all_signals();
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

}  // namespace dune
