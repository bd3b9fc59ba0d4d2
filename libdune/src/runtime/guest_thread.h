// guest_thread.h - a thread in Dune mode: its vCPU, its host stack, its signals.
#pragma once

#include <dune/dune.h>

#include <cstdint>
#include <optional>

#include "base/mapping.h"
#include "base/result.h"
#include "classic/sandbox_state.h"
#include "debug/thread_debug.h"
#include "kvm/vcpu.h"
#include "monitor/monitor.h"
#include "runtime/stack_check.h"
#include "runtime/thread_stats.h"
#include "runtime/vcpu_pool.h"
#include "signals/signal_queue.h"
#include "signals/signal_table.h"

namespace dune {

class Runtime;

// The ring-3 state a new guest thread starts in.
struct GuestStart {
  dune_tf regs;      // general registers, rip, rsp, rflags
  uint64_t fs_base;
  uint64_t gs_base;
  const void* xsave;  // FPU/vector state: an XSAVE image
  AltStack altstack;
  uint64_t cr3 = 0;        // the page table to start on; 0: the process's own
  SandboxState sandbox{};  // a thread or process a sandbox created stays in it
};

class GuestThread {
 public:
  // A vCPU for the calling thread, set to `start`: `slot` if given (taken from
  // the pool by the caller), else one from the pool. The thread runs its host
  // side on *host_stack (taken only on success: the caller may be running on
  // it), or on a new one when null.
  static Result<GuestThread*> create(Runtime& rt, const GuestStart& start, Mapping* host_stack = nullptr,
                                     VcpuSlot* slot = nullptr);
  // Switches to the host stack and runs the guest until the thread exits.
  [[noreturn]] void start();

  Runtime& rt() const { return *rt_; }
  Vcpu& vcpu() { return slot_->vcpu; }
  VcpuSlot* slot() const { return slot_; }
  int tid() const { return tid_; }
  // The process the thread belongs to (a CLONE_VM child without CLONE_THREAD,
  // such as a vfork child, is another process in the same VM).
  int tgid() const { return tgid_; }

  // The ring-3 state the guest resumes at if run now. At an exception: the
  // CPU's frame; at the syscall landing: the state sysret returns to, or,
  // before the syscall was reported, the state before the syscall instruction.
  void user_state(dune_tf* tf) const;
  // Resumes the guest at any ring-3 state tf, from wherever it is stopped.
  void resume(const dune_tf& tf);
  // Resumes after a syscall with its result in rax.
  void finish_syscall(long result);
  // True while the guest is stopped in ring 0 (a stub of the monitor).
  bool in_ring0() const;
  // Where the guest stands (Monitor::place_of), also inside the exception
  // gate's dispatcher, which is library code running on this vCPU's ring-0
  // stack below the gate's frame, where the registers are (kGateSaved).
  Monitor::Place place() const;

  // Blocks every signal on the host for good, unless signals caught for the
  // guest still wait: then false, nothing blocked (they go first).
  bool ready_to_exit();
  // Ends this thread (SYS_exit): its vCPU goes back to the pool, its host stack away.
  [[noreturn]] void exit_thread(int status);

  // What the current VM exit is.
  enum class Stop : uint8_t { kNone, kSyscall, kException, kTrapReturn, kHypercall, kMemory };
  Stop stop() const { return stop_; }
  struct ExceptionState {
    int vector = -1;
    uint64_t error = 0;
    uint64_t cr2 = 0;
    desc::IretFrame* frame = nullptr;
  };
  const ExceptionState& exception() const { return exception_; }
  void set_fault_address(uint64_t cr2) { exception_.cr2 = cr2; }

  // Counts consecutive retries of the same fault; true once retrying it again
  // would loop (the library cannot fix it after all).
  bool retry_would_loop(uint64_t rip, uint64_t addr);

  // Its record for a debugger's stops (debug/debug_stop.h).
  debug::ThreadDebug& debug() { return debug_; }

  // What this thread's vCPU did (read by others for totals: plain counters).
  ThreadStats& stats() { return stats_; }

  // Signals caught on the host for this thread, its sigaltstack, and the
  // signal actions it shares (CLONE_SIGHAND) or has of its own (a vfork child).
  SignalQueue& pending_signals() { return pending_; }
  // Whether the program's handlers can run now: not while the thread runs a
  // sandbox's code (dune_jump_to_user), whose page table and stack are not
  // the program's; its signals wait for the next launcher handler or return.
  bool signals_deliverable() const { return !sandbox.active; }
  AltStack& altstack() { return altstack_; }
  // The stacks the badstack check knows this thread runs on.
  ThreadStacks& stacks() { return stacks_; }
  SignalTable& sigtable() const { return *sigtable_; }
  void set_sigtable(SignalTable* t) { sigtable_ = t; }
  // The mask a sigsuspend-like syscall installed until a handler runs (valid
  // while temp_mask_set), as the kernel's saved_sigmask.
  uint64_t temp_mask = 0;
  bool temp_mask_set = false;
  // A vfork child lives on its parent's bookkeeping: the parent reclaims it.
  bool vfork_child = false;
  // dune_jump_to_user's state (classic/sandbox.cpp).
  SandboxState sandbox;
  // Points the vCPU at another page table (a sandbox's, or back).
  Status set_cr3(uint64_t root_gpa);

  // The signal mask the thread takes once it runs on its host stack: a new
  // thread is born with every signal blocked (task_spawn.cpp).
  void set_mask_at_start(uint64_t mask) { mask_at_start_ = mask; }

  // Makes the current thread's vCPU one of a new VM after fork (its state: start).
  Status reset_after_fork(const GuestStart& start);
  // Gives back the vCPU and frees what this object holds, except the host
  // stack, which is returned.
  Mapping release();

 private:
  GuestThread(Runtime& rt) : rt_(&rt) {}
  Status load(const GuestStart& start);
  static void host_main(void* self);
  [[noreturn]] void run();
  // Records what this exit is for and counts it by reason.
  void stop_for(Stop s);
  uint32_t exit_kind_of(Stop s) const;  // a dune_exit_kind
  // Handles what KVM_RUN returned (guest_exits.cpp); the I/O port for the trace.
  uint32_t on_exit(long rc);
  // Takes the report of a monitor entry: RIP past its `out` on every flavour.
  void take_report(uint64_t out_insn);
  // After an interrupted KVM_RUN: never leaves the guest on an unreported entry.
  void settle_interrupted_entry();
  void on_io(uint32_t port);
  // An `in` or `out` that is not one of the monitor's own: Linux's #GP.
  void on_program_port_io();
  void on_mmio();
  void on_memory_fault();
  void on_run_error(long rc);
  [[noreturn]] void on_unexpected_exit(const char* what);
  void check_syscall_landing();

  Runtime* rt_;
  VcpuSlot* slot_ = nullptr;
  Mapping host_stack_;
  int tid_ = 0;
  int tgid_ = 0;
  Stop stop_ = Stop::kNone;
  ExceptionState exception_;
  uint64_t retried_rip_ = 0;
  uint64_t retried_addr_ = 0;
  int retries_ = 0;
  SignalQueue pending_;
  AltStack altstack_;
  ThreadStacks stacks_;
  kvm_regs intended_regs_{};
  ThreadStats stats_;
  debug::ThreadDebug debug_;
  uint64_t left_ = 0;  // TSC when KVM_RUN last returned
  SignalTable* sigtable_ = &signal_table();
  std::optional<uint64_t> mask_at_start_;
};

// A host stack for a guest thread's host side (with a guard page).
Result<Mapping> new_host_stack();

// The calling thread's GuestThread, or nullptr outside Dune mode.
GuestThread* current_guest_thread();
void set_current_guest_thread(GuestThread* t);

}  // namespace dune
