#include "runtime/runtime.h"

#include <cstdlib>
#include <ctime>
#include <mutex>
#include <cstring>
#include <new>

#include "base/host_arena.h"
#include "base/log.h"
#include "monitor/exception_gate.h"
#include "base/parse_size.h"
#include "kvm/host_cpu.h"
#include "mm/table_directory.h"
#include "base/own_mappings.h"
#include "debug/debug_stop.h"
#include "debug/gdb_session.h"
#include "runtime/backend_choice.h"
#include "runtime/guest_thread.h"
#include "runtime/stats_report.h"
#include "runtime/syscall_fastpath.h"
#include "trace/events.h"
#include "signals/fatal_signal.h"
#include "runtime/thread_registry.h"
#include "signals/host_signals.h"

namespace dune {

namespace {

std::atomic<Runtime*> g_runtime{nullptr};
constexpr uint64_t kDefaultBudget = 64ull << 30;
std::atomic<uint64_t> g_budget{0};
// KVM slots the library leaves unused, for KVM's own needs.
constexpr uint32_t kReservedSlots = 8;

uint64_t budget_from_env() {
  const char* v = std::getenv("DUNE_MEM_BUDGET");
  if (!v || !*v) return kDefaultBudget;
  auto n = parse_byte_size(v);
  if (!n) {
    log::warn("DUNE_MEM_BUDGET='{}' is not a byte count (e.g. 8G); using the default {} bytes", v,
              kDefaultBudget);
    return kDefaultBudget;
  }
  return *n;
}

}  // namespace

Runtime* runtime() { return g_runtime.load(std::memory_order_acquire); }

uint64_t configured_budget() {
  uint64_t b = g_budget.load(std::memory_order_relaxed);
  return b ? b : budget_from_env();
}
void set_configured_budget(uint64_t bytes) { g_budget.store(bytes, std::memory_order_relaxed); }

void Runtime::fork_lock() {
  // A fixed order, the same as everywhere they nest: memory, signals, vCPUs,
  // then the allocator and the own-mappings table, which the others use.
  mm->lock_for_fork();
  signal_table().lock().lock();
  pool.lock().lock();
  own_mappings::lock();
  host_arena_lock();
}

void Runtime::fork_unlock() {
  host_arena_unlock();
  own_mappings::unlock();
  pool.lock().unlock();
  signal_table().lock().unlock();
  mm->unlock_for_fork();
}

void Runtime::collect_stats(ThreadStats* out, int process) {
  *out = ThreadStats{};
  if (process == pid) {
    std::lock_guard<SpinLock> g(counters.retired_lock);
    *out = counters.retired;
  }
  struct Ctx {
    ThreadStats* out;
    int pid;
  } ctx{out, process};
  for_each_registered(
      [](GuestThread* t, void* p) {
        auto* c = static_cast<Ctx*>(p);
        if (t->tgid() == c->pid) c->out->add(t->stats());
      },
      &ctx);
}

void Runtime::retire_stats(const ThreadStats& s) {
  std::lock_guard<SpinLock> g(counters.retired_lock);
  counters.retired.add(s);
}

void Runtime::mark_start() {
  timespec ts{};
  sys::syscall6(SYS_clock_gettime, CLOCK_MONOTONIC, reinterpret_cast<long>(&ts));
  start_ns = static_cast<uint64_t>(ts.tv_sec) * 1000000000ull + static_cast<uint64_t>(ts.tv_nsec);
  start_tsc = __builtin_ia32_rdtsc();
}

Status Runtime::rebuild_after_fork(GuestThread& t, const GuestStart& start) {
  pid = static_cast<int>(sys::getpid());
  // Every VM and vCPU descriptor here is the parent's: a VM serves only the
  // process that created it (the module answers a child with EIO). The device
  // makes a new one: KVM_CREATE_VM, or a new open of /dev/dune.
  auto new_vm = Vm::create(kvm);
  if (!new_vm) return Error(new_vm.error());
  vm = std::move(new_vm.value());
  vm.disable_quirks();
  apply_syscall_fastpath(*this);
  {
    auto lk = mm->lock();
    DUNE_TRY(mm->rebuild_after_fork(&slots_backend_));
  }
  DUNE_TRY(pool.rebuild_in_child(*this, t.slot()));
  keep_only_host_stack(&t);
  counters.host_faults.store(0, std::memory_order_relaxed);
  counters.vcpus.store(1, std::memory_order_relaxed);
  counters.retired = ThreadStats{};
  reset_gate_dispatched();
  debug::forget_after_fork();
  mark_start();
  return t.reset_after_fork(start);
}

Result<Runtime*> Runtime::create() {
  log::configure_from_env();
  const HostCpu& cpu = host_cpu();
  auto kvm = open_chosen_device();
  if (!kvm) return Error(kvm.error());
  auto vm = Vm::create(*kvm);
  if (!vm) return Error(vm.error());

  // Static storage: the runtime lives until the process ends, threads included.
  alignas(Runtime) static unsigned char storage[sizeof(Runtime)];
  auto* rt = new (storage) Runtime();
  rt->kvm = std::move(kvm.value());
  rt->vm = std::move(vm.value());
  rt->vm.disable_quirks();
  rt->traits = traits_of_backend(rt->kvm.backend());

  long xsave2 = rt->vm.check(KVM_CAP_XSAVE2);
  rt->xsave_size = xsave2 > 4096 ? static_cast<size_t>(xsave2) : 4096;
  rt->fpu_ioctls = rt->kvm.check(KVM_CAP_XSAVE) <= 0;

  long nslots = rt->vm.check(KVM_CAP_NR_MEMSLOTS);
  if (nslots <= static_cast<long>(kReservedSlots) + 8) {
    log::error("cannot enter Dune mode: the VM offers only {} memory slots", nslots);
    rt->~Runtime();
    return Error(-ENOTSUP);
  }
  MemoryConfig mc;
  mc.budget_bytes = configured_budget();
  mc.max_slots = static_cast<uint32_t>(nslots) - kReservedSlots;
  mc.nx = cpu.has_nx;
  mc.phys_bits = rt->kvm.guest_phys_bits(cpu.phys_bits);
  const char* layout = std::getenv("DUNE_GPA_LAYOUT");
  mc.force_packed = layout && !std::strcmp(layout, "packed");
  // The guest finds the table chunks there when it walks pgroot itself.
  mc.publish_tables = true;
  table_directory::clear();

  alignas(MemoryManager) static unsigned char mm_storage[sizeof(MemoryManager)];
  rt->mm = new (mm_storage) MemoryManager(&rt->slots_backend_, mc, host_arena());
  Status s = rt->mm->init();
  if (!s) {
    if (s.error() == -ENOMEM)
      log::error("cannot enter Dune mode: the process's memory does not fit the memory-slot "
                 "budget of {} bytes (raise DUNE_MEM_BUDGET)", mc.budget_bytes);
    else if (s.error() == -ENOSPC)
      log::error("cannot enter Dune mode: out of KVM memory slots ({} available)", mc.max_slots);
    else
      log::error("cannot enter Dune mode: mirroring the address space failed: {}",
                 log::errno_name(s.error()));
    rt->mm->~MemoryManager();
    rt->~Runtime();
    return Error(s.error() == -ENOSPC ? -ENOMEM : s.error());
  }
  s = rt->monitor.init(*rt->mm, cpu, rt->traits);
  if (!s) {
    log::error("cannot enter Dune mode: building the monitor failed: {}", log::errno_name(s.error()));
    rt->mm->~MemoryManager();
    rt->~Runtime();
    return Error(s.error());
  }
  rt->pid = static_cast<int>(sys::getpid());
  rt->mark_start();
  configure_stats_report();
  rt->fastpath_on = syscall_fastpath_wanted();
  apply_syscall_fastpath(*rt);
  // A death by a signal is reported (DUNE_STATS) and traced (a listener for
  // DUNE_EV_THREAD installed before dune_init): the signal is caught first.
  // gdb too is told of a death by a signal.
  bool debugger = debug::wanted();
  if (stats_report_enabled() || trace::wanted(DUNE_EV_THREAD) || debugger) {
    auto report = [](int signo) {
      debug::report_death(signo);
      if (trace::wanted(DUNE_EV_THREAD)) trace::emit_task_end(true, 0, signo);
      if (Runtime* r = runtime()) write_stats_report(*r, "signal", signo);
    };
    set_death_hook(report);
    set_fatal_signal_hook(report);
  }
  adopt_host_handlers();
  // Info level: the one line that says this process is in Dune mode.
  log::info("pid {}: VM ready: flavour {}, {} slots covering {} bytes, {} guest-physical layout", sys::getpid(),
             dune_flavour_name(rt->traits.flavour), rt->mm->slot_count(), rt->mm->covered_bytes(),
             rt->mm->identity() ? "identity" : "packed");
  g_runtime.store(rt, std::memory_order_release);
  // The first thread to enter then waits for gdb's continue.
  if (debugger) (void)debug::start_server();
  return rt;
}

}  // namespace dune
