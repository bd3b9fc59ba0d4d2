// c_api.cpp - the C API of dune.h and trace.h.
#include <dune/dune.h>
#include <dune/trace.h>

#include <cstring>
#include <asm/prctl.h>
#include <signal.h>
#include <sys/syscall.h>

#include <mutex>
#include <new>

#include "base/host_arena.h"
#include "base/log.h"
#include "kvm/fpu_state.h"
#include "kvm/host_cpu.h"
#include "classic/guest_walk.h"
#include "classic/sandbox.h"
#include "classic/vm_calls.h"
#include "monitor/exception_gate.h"
#include "runtime/backend_choice.h"
#include "runtime/entry_context.h"
#include "runtime/guest_memory.h"
#include "runtime/guest_thread.h"
#include "runtime/hypercall.h"
#include "runtime/runtime.h"
#include "runtime/syscall_fastpath.h"
#include "runtime/trap_handlers.h"
#include "syscalls/syscall_table.h"
#include "trace/events.h"

using namespace dune;

namespace {
std::mutex g_init_lock;
}  // namespace

namespace dune {

// The runtime, if dune_init succeeded in this process (not in a parent we
// were forked from: a VM belongs to the process that created it).
Runtime* live_runtime() {
  Runtime* rt = runtime();
  // A thread in Dune mode runs in this process's VM: no need to ask (and a
  // getpid from the guest would be a VM exit).
  if (rt && current_guest_thread()) return rt;
  if (rt && rt->pid == static_cast<int>(sys::getpid())) return rt;
  return nullptr;
}

int set_budget(uint64_t bytes) {
  if (Runtime* rt = live_runtime()) {
    Status s = rt->mm->set_budget(bytes);
    if (!s) {
      log::error("dune_set_mem_budget: {} bytes are covered already, more than {}",
                 rt->mm->covered_bytes(), bytes);
      return s.error();
    }
  }
  set_configured_budget(bytes);
  return 0;
}

int get_stats(Runtime& rt, dune_stats* out) {
  // Big (a counter per syscall): from the library's allocator, not the stack.
  auto* s = new (host_arena()->allocate(sizeof(ThreadStats), alignof(ThreadStats))) ThreadStats();
  rt.collect_stats(s, static_cast<int>(sys::getpid()));
  dune_stats r{};
  r.vm_exits = s->exits;
  r.syscalls = s->syscalls;
  r.guest_faults = s->faults();
  r.page_faults = s->faults_by_vector[14];
  // What the exception gate dispatched in the guest, where the host never saw it.
  for (int v = 0; v < 32; ++v) r.guest_faults += gate_dispatched(v);
  r.page_faults += gate_dispatched(14);
  host_arena()->deallocate(s, sizeof(ThreadStats), alignof(ThreadStats));
  r.host_faults = rt.counters.host_faults.load(std::memory_order_relaxed);
  r.vcpus = rt.counters.vcpus.load(std::memory_order_relaxed);
  {
    auto lk = rt.mm->lock();
    r.memslots = rt.mm->slot_count();
    r.slot_bytes = rt.mm->covered_bytes();
    r.pt_pages = rt.mm->table_pages();
  }
  *out = r;
  return 0;
}

long handle_hypercall(GuestThread& t, long nr, uint64_t a1, uint64_t, uint64_t) {
  // A sandbox may not use the launcher's library.
  if (t.sandbox.active) {
    sandbox_refuse(t, "a hypercall");
    return kResumed;
  }
  if (nr >= static_cast<long>(Hypercall::kVmMprotect)) return classic::vm_call(t.rt(), &t, nr, a1);
  switch (static_cast<Hypercall>(nr)) {
    case Hypercall::kGetStats: {
      dune_stats s;
      get_stats(t.rt(), &s);
      return copy_to_guest(a1, &s, sizeof s) ? 0 : -EFAULT;
    }
    case Hypercall::kSetBudget: return set_budget(a1);
    case Hypercall::kGetBudget: return static_cast<long>(t.rt().mm->budget());
    default: break;  // the classic calls, above
  }
  return -ENOSYS;
}

}  // namespace dune

extern "C" {

DUNE_API int dune_init(void) {
  std::lock_guard<std::mutex> g(g_init_lock);
  if (live_runtime()) {
    log::error("dune_init: already initialized in this process");
    return -EALREADY;
  }
  auto rt = Runtime::create();
  if (!rt) return rt.error();
  // The classic API's pgroot: the process's own table, readable and writable
  // by the program in Dune mode.
  {
    auto lk = rt.value()->mm->lock();
    (void)rt.value()->mm->expose_tables();
    pgroot = rt.value()->mm->main_table().root_hva();
    // The guest walks pgroot itself (classic/guest_walk.h).
    classic::allow_guest_page_walk(rt.value()->traits.page_walk_in_guest ? pgroot : nullptr);
    if (rt.value()->monitor.exception_gate()) {
      const HostCpu& cpu = host_cpu();
      configure_exception_gate(GateConfig{pgroot, Monitor::trap_return(), rt.value()->xsave_size,
                                          cpu.has_xsave ? cpu.xcr0 : 0});
    }
  }
  return 0;
}

// Called by dune_enter (entry.S) with the caller's saved context.
__attribute__((visibility("hidden"))) int dune_enter_impl(const EntryContext* ctx) {
  if (current_guest_thread()) return 0;  // already in Dune mode: we run in the guest
  Runtime* rt = live_runtime();
  if (!rt) {
    log::error("dune_enter: call dune_init() first (it has not succeeded in this process)");
    return -EINVAL;
  }
  size_t size = rt->xsave_size;
  void* buf = host_arena()->allocate(size, 64);
  std::memset(buf, 0, size);
  fpu::save_current(buf, host_cpu().has_xsave);
  GuestStart start{};
  start.regs.rbx = ctx->rbx;
  start.regs.rbp = ctx->rbp;
  start.regs.r12 = ctx->r12;
  start.regs.r13 = ctx->r13;
  start.regs.r14 = ctx->r14;
  start.regs.r15 = ctx->r15;
  start.regs.rsp = ctx->rsp;
  start.regs.rip = ctx->rip;
  start.regs.rflags = ctx->rflags;
  start.regs.rax = 0;  // dune_enter() returns 0 in Dune mode
  sys::syscall6(SYS_arch_prctl, ARCH_GET_FS, reinterpret_cast<long>(&start.fs_base));
  sys::syscall6(SYS_arch_prctl, ARCH_GET_GS, reinterpret_cast<long>(&start.gs_base));
  start.xsave = buf;
  // The thread's sigaltstack becomes the guest's.
  stack_t ss{};
  if (sys::syscall6(SYS_sigaltstack, 0, reinterpret_cast<long>(&ss)) == 0 && !(ss.ss_flags & SS_DISABLE))
    start.altstack = AltStack{reinterpret_cast<uint64_t>(ss.ss_sp), ss.ss_size, ss.ss_flags & kSsAutodisarm};
  auto t = GuestThread::create(*rt, start);
  host_arena()->deallocate(buf, size, 64);
  if (!t) return t.error();
  t.value()->start();
}

DUNE_API int dune_init_and_enter(void) {
  if (current_guest_thread()) return 0;
  if (!live_runtime()) {
    int r = dune_init();
    if (r && r != -EALREADY) return r;
  }
  return dune_enter();
}

DUNE_API int dune_is_active(void) { return current_guest_thread() != nullptr; }

DUNE_API int dune_set_mem_budget(uint64_t bytes) {
  if (bytes == 0) {
    log::error("dune_set_mem_budget: the budget must be more than 0 bytes");
    return -EINVAL;
  }
  if (current_guest_thread())
    return static_cast<int>(dune_hypercall(static_cast<long>(Hypercall::kSetBudget), bytes, 0, 0));
  return set_budget(bytes);
}

DUNE_API uint64_t dune_get_mem_budget(void) {
  if (current_guest_thread())
    return static_cast<uint64_t>(dune_hypercall(static_cast<long>(Hypercall::kGetBudget), 0, 0, 0));
  if (Runtime* rt = live_runtime()) return rt->mm->budget();
  return configured_budget();
}

DUNE_API int dune_register_intr_handler(int vector, dune_intr_cb cb) {
  return set_intr_handler(vector, cb);
}

DUNE_API int dune_register_pgflt_handler(dune_pgflt_cb cb) { return set_pgflt_handler(cb); }

DUNE_API int dune_get_stats(struct dune_stats* out) {
  if (!out) {
    log::error("dune_get_stats: NULL output");
    return -EINVAL;
  }
  if (current_guest_thread())
    return static_cast<int>(
        dune_hypercall(static_cast<long>(Hypercall::kGetStats), reinterpret_cast<uint64_t>(out), 0, 0));
  Runtime* rt = live_runtime();
  if (!rt) {
    log::error("dune_get_stats: Dune mode is not initialized in this process");
    return -EINVAL;
  }
  return get_stats(*rt, out);
}

DUNE_API enum dune_flavour dune_get_flavour(void) {
  if (Runtime* rt = live_runtime()) return rt->traits.flavour;
  return traits_of_backend(expected_backend()).flavour;
}

DUNE_API const char* dune_flavour_name(enum dune_flavour f) {
  switch (f) {
    case DUNE_FLAVOUR_VMX: return "vmx";
    case DUNE_FLAVOUR_SVM: return "svm";
    case DUNE_FLAVOUR_PVM: return "pvm";
    case DUNE_FLAVOUR_OTHER: return "other";
    case DUNE_FLAVOUR_MODULE: return "dune-module";
    default: return "unknown";
  }
}

DUNE_API int dune_set_event_listener(dune_event_fn fn, void* ctx, uint32_t mask) {
  int r = trace::set_listener(fn, ctx, mask);
  // A listener that wants every syscall or exit must see those the module would answer itself.
  if (Runtime* rt = runtime()) apply_syscall_fastpath(*rt);
  return r;
}

DUNE_API int dune_set_syscall_entries(const uint64_t* words, unsigned n_words) {
  return trace::set_syscall_entries(words, n_words);
}

DUNE_API const char* dune_syscall_name(long nr) { return syscall_name(nr); }

DUNE_API long dune_syscall_number(const char* name) {
  if (!name) return -1;
  return syscall_number(name);
}

}  // extern "C"
