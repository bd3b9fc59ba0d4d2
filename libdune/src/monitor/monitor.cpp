#include "monitor/monitor.h"

#include <cstring>

#include "kvm/flavour.h"
#include "kvm/host_cpu.h"
#include "mm/memory_manager.h"
#include "monitor/exception_gate.h"
#include "monitor/ports.h"

extern "C" {
void dune_syscall_landing();
extern char dune_syscall_landing_end[];
void dune_exception_stubs();
extern char dune_exception_stubs_end[];
void dune_iret();
void dune_trap_return();
void dune_tlb_gate();
extern char dune_tlb_gate_end[];
extern char dune_gate_entries[];
extern char dune_gate_trap_return[];
extern char dune_gate_saved[];
extern char dune_gate_commit[];
extern char dune_gate_commit_end[];
extern char dune_gate_continuations[];
extern char dune_gate_continuations_end[];
void dune_trap_return_gated();
extern char dune_trap_return_gated_out[];
void dune_trap_return_user_xsave();
void dune_trap_return_user_fxsave();
}

namespace dune {

namespace {

constexpr uint64_t kCr0 = 0x80050033;  // PG, AM, WP, NE, ET, MP, PE (as Linux)
constexpr uint64_t kCr4Pae = 1ull << 5;
constexpr uint64_t kCr4Osfxsr = 1ull << 9;
constexpr uint64_t kCr4Osxmmexcpt = 1ull << 10;
constexpr uint64_t kCr4Fsgsbase = 1ull << 16;
constexpr uint64_t kCr4Osxsave = 1ull << 18;
constexpr uint64_t kEferSce = 1ull << 0;
constexpr uint64_t kEferLme = 1ull << 8;
constexpr uint64_t kEferLma = 1ull << 10;
constexpr uint64_t kEferNxe = 1ull << 11;
// Flags a syscall clears, as Linux: TF, DF, IF, IOPL, NT, AC.
constexpr uint64_t kSyscallMask = 0x47700;
constexpr int kIstDoubleFault = 1;

kvm_segment segment(uint16_t selector, uint8_t type, uint8_t dpl, bool code64) {
  kvm_segment s{};
  s.base = 0;
  s.limit = 0xffffffff;
  s.selector = selector;
  s.type = type;
  s.present = 1;
  s.dpl = dpl;
  s.s = 1;
  s.l = code64 ? 1 : 0;
  s.db = code64 ? 0 : 1;
  s.g = 1;
  return s;
}

}  // namespace

uint64_t Monitor::syscall_landing() { return reinterpret_cast<uint64_t>(&dune_syscall_landing); }
uint64_t Monitor::exception_stub(int v) {
  return reinterpret_cast<uint64_t>(&dune_exception_stubs) + DUNE_STUB_STRIDE * static_cast<uint64_t>(v);
}
uint64_t Monitor::iret_stub() { return reinterpret_cast<uint64_t>(&dune_iret); }
// stubs.S's ring-3 return writes these as numbers.
static_assert(desc::kUserCs == 0x33 && desc::kUserDs == 0x2b);
static_assert(Monitor::kUserFlagsMask == 0x3c7fd7 && Monitor::kFlagsFixed == 0x202);

uint64_t Monitor::trap_return() {
  if (!exception_gate_) return trap_return_privileged();
  return xsave_ ? reinterpret_cast<uint64_t>(&dune_trap_return_user_xsave)
                : reinterpret_cast<uint64_t>(&dune_trap_return_user_fxsave);
}
uint64_t Monitor::trap_return_privileged() {
  return exception_gate_ ? reinterpret_cast<uint64_t>(&dune_trap_return_gated)
                         : reinterpret_cast<uint64_t>(&dune_trap_return);
}
uint64_t Monitor::trap_return_out() {
  return exception_gate_ ? reinterpret_cast<uint64_t>(dune_trap_return_gated_out)
                         : reinterpret_cast<uint64_t>(&dune_trap_return);
}
uint64_t Monitor::tlb_gate() { return reinterpret_cast<uint64_t>(&dune_tlb_gate); }
int Monitor::vector_of_port(uint32_t port) {
  if (port >= DUNE_PORT_EXCEPTION && port < DUNE_PORT_EXCEPTION + DUNE_EXCEPTION_STUBS)
    return static_cast<int>(port - DUNE_PORT_EXCEPTION);
  return -1;
}

Monitor::Place Monitor::place_of(uint64_t rip) {
  auto in = [rip](const void* lo, const void* hi) {
    return rip >= reinterpret_cast<uint64_t>(lo) && rip < reinterpret_cast<uint64_t>(hi);
  };
  if (in(reinterpret_cast<const void*>(&dune_syscall_landing), dune_syscall_landing_end))
    return rip == syscall_landing() ? Place::kSyscallEntry : Place::kSyscallReturn;
  if (in(reinterpret_cast<const void*>(&dune_exception_stubs), dune_exception_stubs_end))
    return vector_at_entry(rip) >= 0 ? Place::kExceptionEntry : Place::kExceptionReturn;
  if (rip == iret_stub()) return Place::kIretStub;
  if (in(reinterpret_cast<const void*>(&dune_tlb_gate), dune_tlb_gate_end)) return Place::kTlbGate;
  if (in(dune_gate_entries, dune_gate_saved) || in(dune_gate_continuations, dune_gate_continuations_end))
    return Place::kGateEntry;
  if (in(dune_gate_saved, dune_gate_commit)) return Place::kGateSaved;
  if (in(dune_gate_commit, dune_gate_commit_end)) return Place::kGateCommit;
  return Place::kUser;
}

int Monitor::vector_at_entry(uint64_t rip) {
  uint64_t base = reinterpret_cast<uint64_t>(&dune_exception_stubs);
  if (rip < base) return -1;
  uint64_t off = rip - base;
  if (off % DUNE_STUB_STRIDE || off / DUNE_STUB_STRIDE >= DUNE_EXCEPTION_STUBS) return -1;
  return static_cast<int>(off / DUNE_STUB_STRIDE);
}

MonitorFeatures monitor_features(const HostCpu& cpu, const FlavourTraits& traits) {
  return MonitorFeatures{cpu.has_nx,  cpu.has_fsgsbase,           cpu.has_xsave,
                         traits.tr_busy, traits.tlb_flush_in_guest, traits.exceptions_in_guest};
}

void write_idt(uint64_t* gates, bool tlb_gate, bool exception_gate) {
  for (int v = 0; v < DUNE_EXCEPTION_STUBS; ++v) {
    // int3 and into are allowed from ring 3, as on Linux; other vectors raised
    // by `int n` from ring 3 become #GP.
    int dpl = (v == 3 || v == 4) ? 3 : 0;
    int ist = (v == 2 || v == 8 || v == 18) ? kIstDoubleFault : 0;
    desc::interrupt_gate(&gates[2 * v], Monitor::exception_stub(v), desc::kKernelCs, dpl, ist);
  }
  // Without it, `int $DUNE_VECTOR_TLB_FLUSH` is a #GP like any other vector.
  if (tlb_gate)
    desc::interrupt_gate(&gates[2 * DUNE_VECTOR_TLB_FLUSH], Monitor::tlb_gate(), desc::kKernelCs, 3, 0);
  if (!exception_gate) return;
  // Faults only: the gate may give up an exception half way when the host
  // stops the guest, which re-runs the instruction and raises it again; a
  // trap (int3, a debug trap) would be lost.
  for (int v : {0, 5, 6, 13, 14, 16, 17, 19}) {
    uint64_t entry = reinterpret_cast<uint64_t>(dune_gate_entries) + DUNE_STUB_STRIDE * static_cast<uint64_t>(v);
    desc::interrupt_gate(&gates[2 * v], entry, desc::kKernelCs, 0, 0);
  }
  desc::interrupt_gate(&gates[2 * DUNE_VECTOR_TRAP_RETURN], reinterpret_cast<uint64_t>(dune_gate_trap_return),
                       desc::kKernelCs, 3, 0);
}

void write_cpu_tables(uint64_t block, uint32_t cpu_node) {
  auto* gdt = reinterpret_cast<uint64_t*>(block + CpuBlock::kGdtOffset);
  std::memset(gdt, 0, desc::kGdtEntries * 8);
  gdt[desc::kKernelCs >> 3] = desc::segment(0, 0xfffff, desc::kCode64Kernel);
  gdt[desc::kKernelDs >> 3] = desc::segment(0, 0xfffff, desc::kData64Kernel);
  gdt[desc::kUser32Cs >> 3] = desc::segment(0, 0xfffff, desc::kCode32User);
  gdt[desc::kUserDs >> 3] = desc::segment(0, 0xfffff, desc::kData64User);
  gdt[desc::kUserCs >> 3] = desc::segment(0, 0xfffff, desc::kCode64User);
  gdt[desc::kCpuNode >> 3] = desc::segment(0, cpu_node, desc::kCpuNodeUser);
  uint64_t tss_base = block + CpuBlock::kTssOffset;
  desc::tss(&gdt[desc::kTss >> 3], tss_base, CpuBlock::kTssLimit);

  auto* tss = reinterpret_cast<desc::Tss64*>(tss_base);
  std::memset(tss, 0, sizeof(*tss));
  tss->rsp[0] = block + CpuBlock::kRsp0Top;
  tss->ist[kIstDoubleFault - 1] = block + CpuBlock::kIst1Top;
  tss->iomap_base = sizeof(desc::Tss64);
  auto* iomap = reinterpret_cast<uint8_t*>(tss_base + sizeof(desc::Tss64));
  std::memset(iomap, 0xff, desc::kIoBitmapBytes);
  for (int port = DUNE_PORT_USER_FIRST; port <= DUNE_PORT_USER_LAST; ++port)
    iomap[port / 8] &= static_cast<uint8_t>(~(1u << (port % 8)));
}

void fill_sregs(kvm_sregs& s, uint64_t block, uint64_t idt, uint64_t cr3, uint64_t fs_base,
                uint64_t gs_base, const MonitorFeatures& f) {
  s.cs = segment(desc::kUserCs, 0xb, 3, true);
  s.ss = segment(desc::kUserDs, 0x3, 3, false);
  // DS, ES, FS and GS hold the null selector in 64-bit Linux programs; usable
  // data segments with selector 0 pass the VM-entry checks on every flavour.
  s.ds = segment(0, 0x3, 3, false);
  s.es = s.ds;
  s.fs = s.ds;
  s.fs.base = fs_base;
  s.gs = s.ds;
  s.gs.base = gs_base;

  s.tr = {};
  s.tr.base = block + CpuBlock::kTssOffset;
  s.tr.limit = CpuBlock::kTssLimit;
  s.tr.selector = desc::kTss;
  s.tr.type = tr_type(f);
  s.tr.present = 1;
  s.ldt = {};
  s.ldt.type = 2;
  s.ldt.unusable = 1;
  s.gdt.base = block + CpuBlock::kGdtOffset;
  s.gdt.limit = desc::kGdtEntries * 8 - 1;
  s.idt.base = idt;
  s.idt.limit = 4095;

  s.cr0 = kCr0;
  s.cr3 = cr3;
  s.cr4 = kCr4Pae | kCr4Osfxsr | kCr4Osxmmexcpt;
  if (f.xsave) s.cr4 |= kCr4Osxsave;
  // Linux lets programs use rdfsbase and friends where the CPU has them.
  if (f.fsgsbase) s.cr4 |= kCr4Fsgsbase;
  s.efer = kEferSce | kEferLme | kEferLma | (f.nx ? kEferNxe : 0);
}

uint32_t fill_msrs(kvm_msr_entry* out, uint32_t tsc_aux) {
  uint32_t n = 0;
  auto put = [&](uint32_t index, uint64_t data) {
    out[n] = {};
    out[n].index = index;
    out[n].data = data;
    ++n;
  };
  // sysret loads CS from STAR[63:48]+16 and SS from +8: 0x33 and 0x2b.
  put(kvm::kMsrStar, (static_cast<uint64_t>(desc::kUser32Cs) << 48) |
                         (static_cast<uint64_t>(desc::kKernelCs) << 32));
  put(kvm::kMsrLstar, Monitor::syscall_landing());
  put(kvm::kMsrCstar, Monitor::syscall_landing());
  put(kvm::kMsrSyscallMask, kSyscallMask);
  put(kvm::kMsrKernelGsBase, 0);
  put(kvm::kMsrTscAux, tsc_aux);
  return n;
}

Status Monitor::init(MemoryManager& mm, const HostCpu& cpu, const FlavourTraits& traits) {
  features_ = monitor_features(cpu, traits);
  auto idt = mm.allocate_monitor(4096, PROT_READ | PROT_WRITE);
  if (!idt) return Error(idt.error());
  idt_ = std::move(idt.value());
  write_idt(idt_.as<uint64_t>(), features_.tlb_gate, features_.exception_gate);
  exception_gate_ = features_.exception_gate;
  xsave_ = features_.xsave;
  return {};
}

void Monitor::arm_exception_gate(const CpuBlock& b, uint64_t root_gpa) const {
  // Tables found under another arming may be another process's (a fork child).
  WalkMemo* memo = gate_walk_memo_at(b.mem.start());
  for (int i = 0; i < kMemoSlots; ++i) memo[i] = WalkMemo{};
  // CR3 + 1, so that no table matches an unarmed (zero) word.
  __atomic_store_n(gate_root_at(b.mem.start()), features_.exception_gate ? root_gpa + 1 : 0, __ATOMIC_RELEASE);
}

Result<CpuBlock> Monitor::make_cpu_block(MemoryManager& mm, uint32_t cpu_node) const {
  auto mem = mm.allocate_monitor(CpuBlock::kBytes, PROT_READ | PROT_WRITE);
  if (!mem) return Error(mem.error());
  CpuBlock b;
  b.mem = std::move(mem.value());
  write_cpu_tables(b.mem.start(), cpu_node);
  return b;
}

}  // namespace dune
