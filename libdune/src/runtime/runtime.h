// runtime.h - the process's Dune state: the VM, its memory, the monitor, counters.
#pragma once

#include <dune/dune.h>

#include <atomic>
#include <cstdint>

#include "base/host_arena.h"
#include "base/log.h"
#include "kvm/flavour.h"
#include "kvm/kvm_device.h"
#include "kvm/memslot_table.h"
#include "kvm/vm.h"
#include "mm/memory_manager.h"
#include "monitor/monitor.h"
#include "runtime/thread_stats.h"
#include "runtime/vcpu_pool.h"

namespace dune {

struct Counters {
  std::atomic<uint64_t> host_faults{0};
  std::atomic<uint64_t> vcpus{0};
  SpinLock retired_lock;
  ThreadStats retired;  // what threads that exited did
};

class GuestThread;
struct GuestStart;

class Runtime {
 public:
  // dune_init: -ENOENT/-EACCES/-ENOTSUP/-ENOMEM... with one message logged.
  static Result<Runtime*> create();
  // In the child of a fork: a VM of its own, built from the tracked address
  // space, and a vCPU in it for the one thread there, starting at `start`.
  Status rebuild_after_fork(GuestThread& t, const GuestStart& start);
  // Locks every library lock (fork_lock) so that a forked child's copy of the
  // library's state is consistent, and unlocks them (in parent and child).
  void fork_lock();
  void fork_unlock();
  // Everything the guest threads of process pid did, exited ones included
  // (those of the process that created the VM).
  void collect_stats(ThreadStats* out, int pid);
  void retire_stats(const ThreadStats& s);
  void mark_start();

  KvmDevice kvm;
  Vm vm;
  FlavourTraits traits;
  MemoryManager* mm = nullptr;
  Monitor monitor;
  VcpuPool pool{host_arena()};
  Counters counters;
  int pid = 0;  // the process this runtime's VM belongs to
  // When the VM was made: with the TSC, the rate that turns cycles into seconds.
  uint64_t start_tsc = 0;
  uint64_t start_ns = 0;
  size_t xsave_size = 4096;  // bytes KVM_GET_XSAVE(2) fills
  bool fpu_ioctls = false;   // KVM has no XSAVE: move FPU state with KVM_GET/SET_FPU
  std::atomic<int> next_vcpu_id{0};
  // Set once the first syscall has shown where `syscall` lands (see flavour.h).
  std::atomic<bool> landing_checked{false};
  // The module's in-kernel syscalls (syscall_fastpath.h): wanted at dune_init,
  // and blocked for good once a sandbox ran.
  bool fastpath_on = false;
  bool fastpath_blocked = false;

 private:
  class VmSlots final : public SlotBackend {
   public:
    explicit VmSlots(Vm* vm) : vm_(vm) {}
    Status set_slot(uint32_t id, uint64_t gpa, uint64_t size, uint64_t hva) override {
      Status s = vm_->set_slot(id, gpa, size, hva);
      if (!s)
        log::debug("KVM_SET_USER_MEMORY_REGION slot {} gpa {:#x} size {:#x} hva {:#x}: {}", id, gpa,
                   size, hva, log::errno_name(s.error()));
      return s;
    }

   private:
    Vm* vm_;
  };
  VmSlots slots_backend_{&vm};
};

// The runtime once dune_init succeeded, else nullptr.
Runtime* runtime();

// The memory budget to use at dune_init (DUNE_MEM_BUDGET or dune_set_mem_budget).
uint64_t configured_budget();
void set_configured_budget(uint64_t bytes);

}  // namespace dune
