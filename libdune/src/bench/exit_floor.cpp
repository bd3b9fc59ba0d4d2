// exit_floor.cpp - a minimal VM that measures the cheapest syscall round trip.
#include <dune/bench.h>

#include <cstring>

#include "base/log.h"
#include "base/mapping.h"
#include "kvm/flavour.h"
#include "kvm/host_cpu.h"
#include "kvm/kvm_device.h"
#include "kvm/vcpu.h"
#include "kvm/vm.h"
#include "mm/page_table.h"
#include "mm/pte.h"
#include "monitor/monitor.h"
#include "monitor/ports.h"
#include "runtime/backend_choice.h"
#include "trace/events.h"

extern "C" void dune_floor_guest();
extern "C" void dune_syscall_landing();
extern "C" void dune_exception_stubs();
extern "C" void dune_iret();

namespace dune {
namespace {

constexpr uint64_t kPage = 4096;
// Layout of the VM's one block of memory.
constexpr uint64_t kTablePages = 8;
constexpr uint64_t kCpuOffset = kTablePages * kPage;
constexpr uint64_t kIdtOffset = kCpuOffset + CpuBlock::kBytes;
constexpr uint64_t kStackOffset = kIdtOffset + kPage;
constexpr uint64_t kBytes = kStackOffset + 2 * kPage;
// Small guest-physical addresses fit any CPU's physical address width.
constexpr uint64_t kMemGpa = 16ull << 20;
constexpr uint64_t kCodeGpa = 32ull << 20;

class BumpTables final : public PageTableMemory {
 public:
  explicit BumpTables(uint64_t hva) : hva_(hva) {}
  Result<Page> allocate() override {
    if (used_ == kTablePages) return Error(-ENOMEM);
    uint64_t off = used_++ * kPage;
    return Page{reinterpret_cast<uint64_t*>(hva_ + off), kMemGpa + off};
  }
  uint64_t* table_at(uint64_t gpa) const override {
    return reinterpret_cast<uint64_t*>(hva_ + (gpa - kMemGpa));
  }
  void release(uint64_t) override {}  // the floor's tables live as long as its VM

 private:
  uint64_t hva_;
  uint64_t used_ = 0;
};

uint64_t page_floor(uint64_t a) { return a & ~(kPage - 1); }

int fail(const char* what, int err) {
  log::error("exit floor: {} failed: {}", what, log::errno_name(err));
  return err < 0 ? err : -err;
}

}  // namespace
}  // namespace dune

using namespace dune;

extern "C" DUNE_API int dune_bench_exit_floor(uint64_t* samples, size_t n) {
  if (!samples || n == 0) {
    log::error("dune_bench_exit_floor: no room for samples");
    return -EINVAL;
  }
  const HostCpu& cpu = host_cpu();
  auto kvm = open_chosen_device();
  if (!kvm) return kvm.error();
  FlavourTraits traits = traits_of_backend(kvm->backend());
  auto vm = Vm::create(*kvm);
  if (!vm) return vm.error();
  auto mem = Mapping::anonymous(kBytes, MAP_POPULATE);
  if (!mem) return fail("mmap", mem.error());

  // The guest code: the loop and the monitor stubs, in this library's text.
  uint64_t code_lo = page_floor(std::min({reinterpret_cast<uint64_t>(&dune_floor_guest),
                                          reinterpret_cast<uint64_t>(&dune_syscall_landing),
                                          reinterpret_cast<uint64_t>(&dune_exception_stubs)}));
  uint64_t code_hi = page_floor(std::max({reinterpret_cast<uint64_t>(&dune_floor_guest),
                                          reinterpret_cast<uint64_t>(&dune_syscall_landing),
                                          reinterpret_cast<uint64_t>(&dune_iret)})) + kPage;
  Status s = vm->set_slot(0, kMemGpa, kBytes, mem->start());
  if (s) s = vm->set_slot(1, kCodeGpa, code_hi - code_lo, code_lo);
  if (!s) return fail("KVM_SET_USER_MEMORY_REGION", s.error());

  BumpTables tables(mem->start());
  auto pt = GuestPageTable::create(&tables);
  if (!pt) return fail("page tables", pt.error());
  uint64_t data = pte::supervisor_flags(true, cpu.has_nx);
  uint64_t user = pte::user_flags(PROT_READ | PROT_WRITE, cpu.has_nx);
  uint64_t code = pte::user_flags(PROT_READ | PROT_EXEC, cpu.has_nx);
  uint64_t base = mem->start();
  s = pt->map(base + kCpuOffset, kStackOffset - kCpuOffset, kMemGpa + kCpuOffset, data);
  if (s) s = pt->map(base + kStackOffset, 2 * kPage, kMemGpa + kStackOffset, user);
  if (s) s = pt->map(code_lo, code_hi - code_lo, kCodeGpa, code);
  if (!s) return fail("page tables", s.error());
  write_idt(reinterpret_cast<uint64_t*>(base + kIdtOffset), false, false);
  write_cpu_tables(base + kCpuOffset, 0);

  auto vcpu = Vcpu::create(*vm, 0, kvm->vcpu_mmap_size());
  if (!vcpu) return fail("KVM_CREATE_VCPU", vcpu.error());
  s = vcpu->set_cpuid(cpu.cpuid);
  if (!s) return fail("KVM_SET_CPUID2", s.error());
  kvm_sregs sregs{};
  s = vcpu->get_sregs(&sregs);
  if (!s) return fail("KVM_GET_SREGS", s.error());
  fill_sregs(sregs, base + kCpuOffset, base + kIdtOffset, kMemGpa, 0, 0, monitor_features(cpu, traits));
  s = vcpu->set_sregs(sregs);
  if (!s) return fail("KVM_SET_SREGS", s.error());
  kvm_msr_entry msrs[8];
  s = vcpu->set_msrs(msrs, fill_msrs(msrs, 0));
  if (s && cpu.has_xsave) s = vcpu->set_xcr0(cpu.xcr0);
  if (!s) return fail("KVM_SET_MSRS/XCRS", s.error());
  kvm_regs regs{};
  regs.rip = reinterpret_cast<uint64_t>(&dune_floor_guest);
  regs.rsp = base + kStackOffset + 2 * kPage - 64;
  regs.rbx = n + 1;  // the first round trip includes the first entry: not a sample
  regs.rflags = Monitor::kFlagsFixed;
  s = vcpu->set_regs(regs);
  if (!s) return fail("KVM_SET_REGS", s.error());

  bool checked = false;
  uint64_t prev = 0;
  size_t got = 0;
  kvm_run* run = vcpu->run();
  for (;;) {
    long rc = vcpu->enter();
    uint64_t now = trace::rdtsc();
    if (rc == -EINTR) continue;
    if (rc < 0) return fail("KVM_RUN", static_cast<int>(rc));
    if (run->exit_reason != KVM_EXIT_IO || run->io.port != DUNE_PORT_SYSCALL) {
      log::error("exit floor: unexpected exit {} (port {:#x}) at rip {:#x}", run->exit_reason,
                 run->io.port, static_cast<uint64_t>(vcpu->regs().rip));
      return -EIO;
    }
    if (!checked) {
      // Where `syscall` landed decides how to return (see flavour.h).
      kvm_sregs now_s{};
      if (vcpu->get_sregs(&now_s)) traits.syscall_lands_in_ring0 = (now_s.cs.selector & 3) == 0;
      checked = true;
    } else if (got < n) {
      samples[got++] = now - prev;
    }
    kvm_regs& r = vcpu->regs();
    if (r.rax == static_cast<uint64_t>(-1)) break;
    if (!traits.return_by_sysret()) {
      r.rip = r.rcx;
      r.rflags = (r.r11 & Monitor::kUserFlagsMask) | Monitor::kFlagsFixed;
      vcpu->mark_regs_dirty();
    }
    prev = now;
  }
  return got == n ? 0 : -EIO;
}
