#include "runtime/vcpu_pool.h"

#include <mutex>
#include <new>

#include "base/host_arena.h"
#include "base/log.h"
#include "kvm/host_cpu.h"
#include "monitor/tlb_gate.h"
#include "runtime/runtime.h"

namespace dune {

namespace {
uint32_t current_cpu_node() {
  unsigned cpu = 0, node = 0;
  sys::syscall6(SYS_getcpu, reinterpret_cast<long>(&cpu), reinterpret_cast<long>(&node), 0);
  return (node << 12) | (cpu & 0xfff);
}
}  // namespace

Status VcpuPool::add_vcpu(Runtime& rt, VcpuSlot* slot) {
  int id;
  {
    std::lock_guard<SpinLock> g(lock_);
    id = next_id_++;
  }
  // The VM's first vCPU (the process's, or a forked child's): the guest may
  // flush its TLB itself; from the second on, only the host reaches them all.
  allow_guest_tlb_flush(id == 0 && rt.traits.tlb_flush_in_guest);
  auto v = Vcpu::create(rt.vm, id, rt.kvm.vcpu_mmap_size());
  if (!v) return Error(v.error());
  slot->vcpu = std::move(v.value());
  slot->vcpu.use_fpu_ioctls(rt.fpu_ioctls);
  // The guest sees the host's CPU as it is; the CPUID table also decides which
  // CR4 bits and XSAVE features KVM accepts later (the module answers CPUID
  // from the host itself: nothing to set there).
  return slot->vcpu.set_cpuid(host_cpu().cpuid);
}

Result<VcpuSlot*> VcpuPool::take(Runtime& rt) {
  VcpuSlot* reused = nullptr;
  {
    std::lock_guard<SpinLock> g(lock_);
    if (!idle_.empty()) {
      reused = idle_.back();
      idle_.pop_back();
    }
  }
  if (reused) {
    // A slot whose vCPU was dropped in a forked child gets a new one.
    if (reused->vcpu.fd() < 0) {
      Status s = add_vcpu(rt, reused);
      if (!s) {
        give_back(reused);
        return Error(s.error());
      }
    }
    return reused;
  }
  // Slow ioctls outside the lock.
  void* mem = host_arena()->allocate(sizeof(VcpuSlot), alignof(VcpuSlot));
  auto* slot = new (mem) VcpuSlot();
  auto block = rt.monitor.make_cpu_block(*rt.mm, current_cpu_node());
  Status s = block ? add_vcpu(rt, slot) : Status(Error(block.error()));
  if (!s) {
    if (block) rt.mm->release_monitor(std::move(block->mem));
    slot->~VcpuSlot();
    host_arena()->deallocate(mem, sizeof(VcpuSlot), alignof(VcpuSlot));
    return Error(s.error());
  }
  slot->cpu = std::move(block.value());
  std::lock_guard<SpinLock> g(lock_);
  all_.push_back(slot);
  return slot;
}

void VcpuPool::give_back(VcpuSlot* slot) {
  std::lock_guard<SpinLock> g(lock_);
  idle_.push_back(slot);
}

Status VcpuPool::rebuild_in_child(Runtime& rt, VcpuSlot* current) {
  // Only the forking thread exists in the child; every other slot is idle now,
  // and gets a vCPU of the new VM when taken again.
  idle_.clear();
  next_id_ = 0;
  for (VcpuSlot* s : all_) {
    s->vcpu = Vcpu();
    if (s != current) idle_.push_back(s);
  }
  return add_vcpu(rt, current);
}

}  // namespace dune
