// monitor.h - the guest's ring-0 structures: GDT, TSS, IDT, stacks, and the
// system registers that put a vCPU in 64-bit ring 3 on them.
#pragma once

#include <cstdint>

#include "base/mapping.h"
#include "base/result.h"
#include "kvm/kvm_abi.h"
#include "monitor/descriptors.h"
#include "monitor/gate_abi.h"

namespace dune {

class MemoryManager;
struct FlavourTraits;
struct HostCpu;

// The structures one vCPU needs for itself: GDT (its TSS descriptor), TSS with
// the I/O bitmap, the ring-0 stack exceptions land on, and an IST stack.
struct CpuBlock {
  static constexpr uint64_t kGdtOffset = 0x0;
  static constexpr uint64_t kTssOffset = 0x100;
  static constexpr uint64_t kRsp0Top = DUNE_CPU_RSP0_TOP;
  static constexpr uint64_t kIst1Top = 0x4000;
  static constexpr uint64_t kBytes = 0x4000;

  Mapping mem;
  uint64_t gdt() const { return mem.start() + kGdtOffset; }
  uint64_t tss() const { return mem.start() + kTssOffset; }
  uint64_t rsp0() const { return mem.start() + kRsp0Top; }
  static desc::IretFrame* iret_frame_at(uint64_t block_start) {
    return reinterpret_cast<desc::IretFrame*>(block_start + kRsp0Top - sizeof(desc::IretFrame));
  }
  static constexpr uint32_t kTssLimit = sizeof(desc::Tss64) + desc::kIoBitmapBytes - 1;
  // Where the host writes an iret frame to send the guest from ring 0 to ring 3.
  desc::IretFrame* iret_frame() const { return iret_frame_at(mem.start()); }
};

// The CPU features the system registers depend on.
struct MonitorFeatures {
  bool nx = false;
  bool fsgsbase = false;
  bool xsave = false;
  bool tr_busy = true;  // FlavourTraits::tr_busy
  bool tlb_gate = false;  // FlavourTraits::tlb_flush_in_guest: the IDT has the gate
  bool exception_gate = false;  // FlavourTraits::exceptions_in_guest: monitor/exception_gate.h
};
MonitorFeatures monitor_features(const HostCpu& cpu, const FlavourTraits& traits);
// The type TR holds: busy (11) or available (9) 64-bit TSS.
inline uint8_t tr_type(const MonitorFeatures& f) { return f.tr_busy ? 0xb : 0x9; }

// Writers of the tables, into memory the caller provides (also used by the
// minimal VM that measures the exit floor).
// With tlb_gate, also the DPL-3 gate of DUNE_VECTOR_TLB_FLUSH; with
// exception_gate, the fault vectors go to the exception gate, and the gate of
// DUNE_VECTOR_TRAP_RETURN is there.
void write_idt(uint64_t* idt_page, bool tlb_gate, bool exception_gate);
// GDT, TSS and I/O bitmap of a CpuBlock (kBytes of memory at block_start).
void write_cpu_tables(uint64_t block_start, uint32_t cpu_node);
// System registers for ring 3 with the tables of the CpuBlock at block_start.
void fill_sregs(kvm_sregs& s, uint64_t block_start, uint64_t idt, uint64_t cr3, uint64_t fs_base,
                uint64_t gs_base, const MonitorFeatures& f);
// The MSRs: syscall entry, masks. Returns how many it wrote to out (<= 8).
uint32_t fill_msrs(kvm_msr_entry* out, uint32_t tsc_aux);

class Monitor {
 public:
  // Builds the IDT (shared by all vCPUs).
  Status init(MemoryManager& mm, const HostCpu& cpu, const FlavourTraits& traits);
  Result<CpuBlock> make_cpu_block(MemoryManager& mm, uint32_t cpu_node) const;

  // System registers for ring 3 on block b, with page tables at cr3.
  void fill_sregs(kvm_sregs& s, const CpuBlock& b, uint64_t cr3, uint64_t fs_base,
                  uint64_t gs_base) const {
    dune::fill_sregs(s, b.mem.start(), idt_.start(), cr3, fs_base, gs_base, features_);
  }
  // KVM on AMD-V reads TR back as busy whatever was set (svm_get_segment): a
  // KVM_GET_SREGS/KVM_SET_SREGS round trip puts back the type chosen here.
  void restore_tr_type(kvm_sregs& s) const {
    s.tr.type = tr_type(features_);
  }

  bool exception_gate() const { return features_.exception_gate; }
  // Arms the exception gate of block b for exceptions raised on the table at
  // root_gpa (the process's own: a sandbox's runs on another).
  void arm_exception_gate(const CpuBlock& b, uint64_t root_gpa) const;

  // Addresses of the stubs in stubs.S.
  static uint64_t syscall_landing();
  static uint64_t exception_stub(int vector);
  static uint64_t iret_stub();
  // Where a Dune trap handler of the program's own returns to: in ring 3 where
  // the exception gate is (stubs.S), else the privileged path's.
  static uint64_t trap_return();
  // The privileged path (through the exception gate where the IDT has it, else
  // an `out`: a VM exit), and that `out`, which reports the return.
  static uint64_t trap_return_privileged();
  static uint64_t trap_return_out();
  static uint64_t tlb_gate();
  // The vector of an exception stub port, or -1.
  static int vector_of_port(uint32_t port);
  // Where a guest RIP is: in which stub, if any. Every way into the monitor
  // ends in an `out` that reports it to the host. At an "entry" place the
  // guest stands on that `out`: the syscall or exception has not been
  // reported, and the host has not acted on it. The host moves RIP past the
  // `out` when it takes the report (some hypervisors leave RIP on it), so an
  // entry place always means "not seen yet", never "seen and answered".
  enum class Place {
    kUser,
    kSyscallEntry,      // at the landing's `out`: the syscall has not run
    kSyscallReturn,     // past it: the result is in RAX, sysret is next
    kExceptionEntry,    // at a stub's `out`: the exception is not handled yet
    kExceptionReturn,   // past it: the stub irets to the CPU's frame
    kIretStub,
    kTlbGate,           // in the TLB flush gate: its `int` frame is the iret frame
    // In the exception gate (stubs.S says where the program's registers are):
    kGateEntry,         // in the CPU; the CPU's frame at the top of the ring-0 stack
    kGateSaved,         // in its GateFrame, with the CPU's frame
    kGateCommit,        // in its GateOut: the state being resumed
  };
  static Place place_of(uint64_t rip);
  // The vector of the exception stub whose `out` is at rip (kExceptionEntry).
  static int vector_at_entry(uint64_t rip);
  // Bytes of the reporting instruction, `outb %al, $imm8`.
  static constexpr uint64_t kOutBytes = 2;
  // Bytes of the `syscall` instruction (what Linux steps back over to restart).
  static constexpr uint64_t kSyscallInsnBytes = 2;
  // Bytes of `int $imm8` (what a host steps back over to run the gate again).
  static constexpr uint64_t kIntInsnBytes = 2;

  // Flags a sysret/iret to ring 3 keeps (as Linux's FIX_EFLAGS), and the ones it sets.
  static constexpr uint64_t kUserFlagsMask = 0x3c7fd7;
  static constexpr uint64_t kFlagsFixed = 0x202;  // IF and the reserved bit 1

 private:
  Mapping idt_;
  MonitorFeatures features_;
  // The IDT routes through the exception gate (for the static trap_return).
  static inline bool exception_gate_ = false;
  static inline bool xsave_ = false;  // the ring-3 return restores with XRSTOR
};

}  // namespace dune
