// vcpu_pool.h - vCPUs outlive their threads: KVM frees a vCPU only with its VM,
// so an exiting thread gives its vCPU back and a new thread takes one.
#pragma once

#include <memory_resource>
#include <vector>

#include "base/result.h"
#include "base/spin_lock.h"
#include "kvm/vcpu.h"
#include "monitor/monitor.h"

namespace dune {

class Runtime;

// A vCPU and the ring-0 block (GDT, TSS, stacks) it runs on.
struct VcpuSlot {
  Vcpu vcpu;
  CpuBlock cpu;
};

class VcpuPool {
 public:
  explicit VcpuPool(std::pmr::memory_resource* mr) : all_(mr), idle_(mr) {}

  // An idle vCPU, or a new one (its CPUID table set). The caller sets the rest.
  Result<VcpuSlot*> take(Runtime& rt);
  void give_back(VcpuSlot* slot);

  // In a forked child: every vCPU belongs to the parent's VM. Drops them all,
  // keeps their ring-0 blocks for reuse, and gives `current` a new vCPU.
  Status rebuild_in_child(Runtime& rt, VcpuSlot* current);

  size_t total() const { return all_.size(); }
  SpinLock& lock() { return lock_; }

 private:
  Status add_vcpu(Runtime& rt, VcpuSlot* slot);

  SpinLock lock_;
  int next_id_ = 0;
  std::pmr::vector<VcpuSlot*> all_;
  std::pmr::vector<VcpuSlot*> idle_;
};

}  // namespace dune
