#include <gtest/gtest.h>

#include <vector>

#include "kvm/flavour.h"
#include "kvm/host_cpu.h"
#include "monitor/descriptors.h"
#include "monitor/exception_gate.h"
#include "monitor/monitor.h"
#include "monitor/ports.h"
#include "runtime/trap_frame.h"

namespace dune {
namespace {

TEST(Descriptors, Linux64BitCodeSegments) {
  // The values Linux itself puts in its GDT for __KERNEL_CS and __USER_CS.
  EXPECT_EQ(desc::segment(0, 0xfffff, desc::kCode64Kernel), 0x00af9b000000ffffull);
  EXPECT_EQ(desc::segment(0, 0xfffff, desc::kCode64User), 0x00affb000000ffffull);
  EXPECT_EQ(desc::segment(0, 0xfffff, desc::kData64User), 0x00cff3000000ffffull);
  EXPECT_EQ(desc::segment(0, 0xfffff, desc::kData64Kernel), 0x00cf93000000ffffull);
}

TEST(Descriptors, SelectorsMatchSysretLayout) {
  // sysret: CS = STAR[63:48] + 16, SS = STAR[63:48] + 8.
  EXPECT_EQ(desc::kUser32Cs + 16, desc::kUserCs);
  EXPECT_EQ(desc::kUser32Cs + 8, desc::kUserDs);
  EXPECT_EQ(desc::kUserCs & 3, 3);
}

TEST(Descriptors, TssDescriptorSpansTwoEntries) {
  uint64_t d[2];
  desc::tss(d, 0x7fffaabbccdd1100ull, 0x78);
  EXPECT_EQ(d[0] & 0xffff, 0x78u);
  EXPECT_EQ((d[0] >> 40) & 0xff, 0x89u);
  uint64_t base = ((d[0] >> 16) & 0xffffff) | (((d[0] >> 56) & 0xff) << 24) | (d[1] << 32);
  EXPECT_EQ(base, 0x7fffaabbccdd1100ull);
}

TEST(Descriptors, InterruptGate) {
  uint64_t g[2];
  desc::interrupt_gate(g, 0x00007f0011223344ull, desc::kKernelCs, 3, 1);
  EXPECT_EQ(g[0] & 0xffff, 0x3344u);
  EXPECT_EQ((g[0] >> 16) & 0xffff, desc::kKernelCs);
  EXPECT_EQ((g[0] >> 32) & 7, 1u);
  EXPECT_EQ((g[0] >> 40) & 0xff, 0xeeu);  // present, DPL 3, 64-bit interrupt gate
  EXPECT_EQ((g[0] >> 48) & 0xffff, 0x1122u);
  EXPECT_EQ(g[1], 0x7f00u);
}

TEST(Descriptors, ErrorCodeVectors) {
  int with[] = {8, 10, 11, 12, 13, 14, 17, 21, 29, 30};
  int count = 0;
  for (int v = 0; v < 32; ++v) count += desc::has_error_code(v);
  EXPECT_EQ(count, 10);
  for (int v : with) EXPECT_TRUE(desc::has_error_code(v));
  EXPECT_FALSE(desc::has_error_code(0));
  EXPECT_FALSE(desc::has_error_code(3));
}

TEST(Ports, UserPortsFitTheIoBitmap) {
  EXPECT_LT(DUNE_PORT_USER_LAST, desc::kIoBitmapPorts);
  EXPECT_LT(DUNE_PORT_EXCEPTION + DUNE_EXCEPTION_STUBS - 1, DUNE_PORT_USER_FIRST);
  EXPECT_LT(DUNE_PORT_USER_LAST, 256);  // reachable with `out imm8`
}

TEST(TrapFrame, LayoutRespectsRedZoneAndAlignment) {
  for (uint64_t rsp : {0x7ffc0000f000ull, 0x7ffc0000efe8ull, 0x7ffc0000eff3ull}) {
    TrapFrameLayout l = trap_frame_layout(rsp, 2696);
    EXPECT_LE(l.xsave + 2696, rsp - kRedZone);
    EXPECT_EQ(l.xsave % 64, 0u);
    EXPECT_LE(l.frame + sizeof(TrapFrame), l.xsave);
    EXPECT_EQ(l.frame % 16, 0u);
    EXPECT_EQ(l.return_slot + 8, l.frame);
    EXPECT_EQ((l.return_slot + 8) % 16, 0u);  // as at any function's entry
  }
}

TEST(TrapFrame, DuneTfHasTheClassicLayout) {
  // struct dune_tf keeps the original Dune's field offsets.
  EXPECT_EQ(offsetof(dune_tf, rdi), 0u);
  EXPECT_EQ(offsetof(dune_tf, rax), 14 * 8u);
  EXPECT_EQ(offsetof(dune_tf, err), 15 * 8u);
  EXPECT_EQ(offsetof(dune_tf, rip), 16 * 8u);
  EXPECT_EQ(offsetof(dune_tf, rsp), 19 * 8u);
  EXPECT_EQ(sizeof(dune_tf), 21 * 8u);
}


// A stop on a reporting `out` means "not reported yet"; past it, "reported".
// Signals and syscalls depend on the two never being confused
// (docs/signals-and-syscalls.md).
TEST(MonitorPlaces, SyscallLandingEntryAndReturn) {
  uint64_t landing = Monitor::syscall_landing();
  EXPECT_EQ(Monitor::place_of(landing), Monitor::Place::kSyscallEntry);
  EXPECT_EQ(Monitor::place_of(landing + Monitor::kOutBytes), Monitor::Place::kSyscallReturn);
  EXPECT_EQ(Monitor::place_of(landing - 1), Monitor::Place::kUser);
}

TEST(MonitorPlaces, ExceptionStubEntryIsItsOut) {
  for (int v = 0; v < DUNE_EXCEPTION_STUBS; ++v) {
    uint64_t stub = Monitor::exception_stub(v);
    EXPECT_EQ(Monitor::place_of(stub), Monitor::Place::kExceptionEntry) << v;
    EXPECT_EQ(Monitor::vector_at_entry(stub), v);
    EXPECT_EQ(Monitor::place_of(stub + Monitor::kOutBytes), Monitor::Place::kExceptionReturn) << v;
    EXPECT_EQ(Monitor::vector_at_entry(stub + Monitor::kOutBytes), -1);
  }
  EXPECT_EQ(Monitor::vector_at_entry(Monitor::syscall_landing()), -1);
}

TEST(MonitorPlaces, ReportingInstructionsAreOutImm8) {
  // outb %al, $imm8 is E6 ib: the two bytes the host steps over.
  auto bytes = [](uint64_t a) { return reinterpret_cast<const unsigned char*>(a); };
  EXPECT_EQ(bytes(Monitor::syscall_landing())[0], 0xe6);
  EXPECT_EQ(bytes(Monitor::syscall_landing())[1], DUNE_PORT_SYSCALL);
  EXPECT_EQ(bytes(Monitor::trap_return())[0], 0xe6);
  for (int v = 0; v < DUNE_EXCEPTION_STUBS; ++v) {
    EXPECT_EQ(bytes(Monitor::exception_stub(v))[0], 0xe6) << v;
    EXPECT_EQ(bytes(Monitor::exception_stub(v))[1], DUNE_PORT_EXCEPTION + v) << v;
  }
}

// TR at entry: a busy 64-bit TSS where VT-x's entry checks want it; an
// available one on AMD-V, whose emulation in QEMU (the AMD bed) faults every
// ring-3 `out` through the I/O bitmap otherwise.
TEST(MonitorSregs, TrTypeFollowsTheFlavour) {
  HostCpu cpu{};
  for (dune_flavour f : {DUNE_FLAVOUR_VMX, DUNE_FLAVOUR_PVM, DUNE_FLAVOUR_MODULE, DUNE_FLAVOUR_OTHER,
                         DUNE_FLAVOUR_SVM}) {
    kvm_sregs s{};
    fill_sregs(s, 0x100000, 0x200000, 0x300000, 0, 0, monitor_features(cpu, traits_for(f)));
    EXPECT_EQ(s.tr.type, f == DUNE_FLAVOUR_SVM ? 0x9 : 0xb) << dune_flavour_name(f);
    // What a KVM_GET_SREGS/KVM_SET_SREGS round trip puts back (KVM on AMD-V reads TR as busy).
    EXPECT_EQ(tr_type(monitor_features(cpu, traits_for(f))), s.tr.type);
    EXPECT_EQ(s.tr.present, 1);
    EXPECT_EQ(s.tr.selector, desc::kTss);
  }
}

// The TLB flush gate: a DPL-3 gate where guest ring 0 runs natively (VT-x,
// AMD-V, dune.ko), none on PVM or an unknown hypervisor, where the host flushes.
TEST(MonitorTlbGate, InstalledWhereGuestRing0IsNative) {
  HostCpu cpu{};
  for (dune_flavour f : {DUNE_FLAVOUR_VMX, DUNE_FLAVOUR_SVM, DUNE_FLAVOUR_MODULE, DUNE_FLAVOUR_PVM,
                         DUNE_FLAVOUR_OTHER, DUNE_FLAVOUR_UNKNOWN}) {
    bool native = f == DUNE_FLAVOUR_VMX || f == DUNE_FLAVOUR_SVM || f == DUNE_FLAVOUR_MODULE;
    EXPECT_EQ(traits_for(f).tlb_flush_in_guest, native) << dune_flavour_name(f);
    // So is the exception gate (monitor/exception_gate.h).
    EXPECT_EQ(traits_for(f).exceptions_in_guest, native) << dune_flavour_name(f);
    EXPECT_EQ(monitor_features(cpu, traits_for(f)).exception_gate, native);
    // Reading the tables costs no flavour an exit (classic/guest_walk.h).
    EXPECT_TRUE(traits_for(f).page_walk_in_guest) << dune_flavour_name(f);
    MonitorFeatures mf = monitor_features(cpu, traits_for(f));
    EXPECT_EQ(mf.tlb_gate, native);
    std::vector<uint64_t> idt(512, 0);
    write_idt(idt.data(), mf.tlb_gate, false);
    const uint64_t* g = &idt[2 * DUNE_VECTOR_TLB_FLUSH];
    if (!native) {
      EXPECT_EQ(g[0], 0u) << dune_flavour_name(f);
      continue;
    }
    uint64_t handler = (g[0] & 0xffff) | (((g[0] >> 48) & 0xffff) << 16) | (g[1] << 32);
    EXPECT_EQ(handler, Monitor::tlb_gate());
    EXPECT_EQ((g[0] >> 16) & 0xffff, desc::kKernelCs);
    EXPECT_EQ((g[0] >> 45) & 3, 3u);     // DPL 3: ring 3 may `int` it
    EXPECT_EQ((g[0] >> 40) & 0xf, 0xeu);  // an interrupt gate: IF clear inside
    EXPECT_EQ((g[0] >> 32) & 7, 0u);      // the TSS's RSP0 stack: the frame where the host reads it
  }
  EXPECT_GE(DUNE_VECTOR_TLB_FLUSH, 32);  // not an exception vector
}

// A stop inside the gate is its own place: the host backs the guest out to
// the `int` (CD ib), whose frame sits where an exception's would.
TEST(MonitorTlbGate, PlaceAndInstruction) {
  uint64_t gate = Monitor::tlb_gate();
  EXPECT_EQ(Monitor::place_of(gate), Monitor::Place::kTlbGate);
  EXPECT_EQ(Monitor::place_of(gate + 4), Monitor::Place::kTlbGate);
  EXPECT_NE(Monitor::place_of(Monitor::iret_stub()), Monitor::Place::kTlbGate);
  const unsigned char int_insn[] = {0xcd, DUNE_VECTOR_TLB_FLUSH};
  EXPECT_EQ(sizeof int_insn, Monitor::kIntInsnBytes);
}


uint64_t gate_target(const std::vector<uint64_t>& idt, int v) {
  const uint64_t* g = &idt[2 * v];
  return (g[0] & 0xffff) | (((g[0] >> 48) & 0xffff) << 16) | (g[1] << 32);
}

// The exception gate (monitor/exception_gate.h, on hardware flavours only:
// above): the fault vectors go through it, traps and the IST vectors keep their stubs,
// and its trap-return vector is a DPL-3 gate outside the exception range.
TEST(MonitorExceptionGate, FaultVectorsGoThroughIt) {
  std::vector<uint64_t> idt(512, 0);
  write_idt(idt.data(), true, true);
  for (int v = 0; v < 32; ++v) {
    bool fault = v == 0 || v == 5 || v == 6 || v == 13 || v == 14 || v == 16 || v == 17 || v == 19;
    Monitor::Place p = Monitor::place_of(gate_target(idt, v));
    if (fault)
      EXPECT_EQ(p, Monitor::Place::kGateEntry) << v;
    else
      EXPECT_EQ(gate_target(idt, v), Monitor::exception_stub(v)) << v;
  }
  const uint64_t* g = &idt[2 * DUNE_VECTOR_TRAP_RETURN];
  EXPECT_EQ(Monitor::place_of(gate_target(idt, DUNE_VECTOR_TRAP_RETURN)), Monitor::Place::kGateEntry);
  EXPECT_EQ((g[0] >> 45) & 3, 3u);
  EXPECT_EQ((g[0] >> 32) & 7, 0u);  // RSP0: the GateFrame lands at its fixed place
  EXPECT_GE(DUNE_VECTOR_TRAP_RETURN, 32);
  EXPECT_NE(DUNE_VECTOR_TRAP_RETURN, DUNE_VECTOR_TLB_FLUSH);
  // Without the gate the IDT is the stubs' alone.
  std::vector<uint64_t> plain(512, 0);
  write_idt(plain.data(), true, false);
  EXPECT_EQ(gate_target(plain, 14), Monitor::exception_stub(14));
  EXPECT_EQ(plain[2 * DUNE_VECTOR_TRAP_RETURN], 0u);
}

// The gate's state in a CpuBlock: the frame from ring 3 at the top of RSP0,
// clear of the TSS below and of GateOut, the walk memo and the root word.
TEST(MonitorExceptionGate, CpuBlockLayout) {
  EXPECT_EQ(CpuBlock::kRsp0Top, static_cast<uint64_t>(DUNE_CPU_RSP0_TOP));
  uint64_t tss_end = CpuBlock::kTssOffset + CpuBlock::kTssLimit + 1;
  EXPECT_LE(tss_end, static_cast<uint64_t>(DUNE_CPU_GATE_ROOT));
  EXPECT_LE(DUNE_CPU_GATE_ROOT + 8, DUNE_CPU_GATE_WALK);
  EXPECT_LE(DUNE_CPU_GATE_WALK + kMemoSlots * sizeof(WalkMemo), static_cast<uint64_t>(DUNE_CPU_GATE_OUT));
  uint64_t out_end = DUNE_CPU_GATE_OUT + sizeof(GateOut);
  // The dispatcher's own stack lies between GateOut and the frame: keep room.
  EXPECT_LE(out_end + 8192, CpuBlock::kRsp0Top - sizeof(GateFrame));
  EXPECT_EQ(reinterpret_cast<uint64_t>(gate_frame_at(0x10000)) + sizeof(GateFrame), 0x10000 + CpuBlock::kRsp0Top);
  EXPECT_EQ(reinterpret_cast<uint64_t>(&gate_frame_at(0x10000)->iret),
            reinterpret_cast<uint64_t>(CpuBlock::iret_frame_at(0x10000)));
  EXPECT_EQ(sizeof(GateFrame) % 16, 0u);  // the dispatcher is called with a 16-byte aligned stack
}

}  // namespace
}  // namespace dune
