// guest_thread.h - a thread in Dune mode: its vCPU, its ring-0 block, its host stack.
#pragma once

#include <dune/dune.h>

#include <cstdint>

#include "base/mapping.h"
#include "base/result.h"
#include "kvm/vcpu.h"
#include "monitor/monitor.h"
#include "runtime/entry_context.h"

namespace dune {

class Runtime;

class GuestThread {
 public:
  // A vCPU for the calling thread that resumes at ctx, with the FPU/vector
  // state in `xsave` (an XSAVE image of the caller).
  static Result<GuestThread*> create(Runtime& rt, const EntryContext& ctx, const void* xsave);
  // Switches to the host stack and runs the guest until the thread exits.
  [[noreturn]] void start();

  Runtime& rt() const { return *rt_; }
  Vcpu& vcpu() { return vcpu_; }
  const CpuBlock& cpu() const { return cpu_; }
  int tid() const { return tid_; }

  // Where the guest is stopped at the current exit: ring 0 (an exception stub,
  // or the syscall landing on hardware) or ring 3.
  bool stopped_in_ring0() const { return stopped_in_ring0_; }

  // The ring-3 state the guest was interrupted in: at an exception, from the
  // CPU's frame; at a syscall, the state sysret would return to.
  void capture(dune_tf* tf) const;
  // Resumes the guest at any ring-3 state tf (general registers, rip, rsp,
  // rflags), from wherever it is stopped.
  void resume(const dune_tf& tf);
  // Resumes after a syscall with its result in rax.
  void finish_syscall(long result);

  // Ends this thread (SYS_exit): frees the vCPU, then the host stack.
  [[noreturn]] void exit_thread(int status);

  // What the current VM exit is.
  enum class Stop : uint8_t { kNone, kSyscall, kException, kTrapReturn, kHypercall, kMemory };
  Stop stop() const { return stop_; }
  // The exception being handled: vector, error code, and the CPU's frame.
  struct ExceptionState {
    int vector = -1;
    uint64_t error = 0;
    desc::IretFrame* frame = nullptr;
  };
  const ExceptionState& exception() const { return exception_; }

  // Counts consecutive retries of the same fault; true once retrying it again
  // would loop (the library cannot fix it after all).
  bool retry_would_loop(uint64_t rip, uint64_t addr);

 private:
  GuestThread(Runtime& rt) : rt_(&rt) {}
  static void host_main(void* self);
  [[noreturn]] void run();
  void on_io(uint32_t port);
  void on_syscall();
  void on_mmio();
  void on_memory_fault();
  void on_run_error(long rc);
  [[noreturn]] void on_unexpected_exit(const char* what);
  void check_syscall_landing();
  void release();

  Runtime* rt_;
  Vcpu vcpu_;
  CpuBlock cpu_;
  Mapping host_stack_;
  int tid_ = 0;
  bool stopped_in_ring0_ = false;
  Stop stop_ = Stop::kNone;
  ExceptionState exception_;
  // A fault the library retried: the same one again means it cannot fix it.
  uint64_t retried_rip_ = 0;
  uint64_t retried_addr_ = 0;
  int retries_ = 0;
};

// The calling thread's GuestThread, or nullptr outside Dune mode.
GuestThread* current_guest_thread();

}  // namespace dune
