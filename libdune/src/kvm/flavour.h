// flavour.h - which hypervisor serves Dune mode, and the few places where that matters.
//
// Hardware KVM (VT-x, AMD-V) and PVM disagree on three things libdune relies on;
// each is one named field here, decided once at dune_init. The Dune kernel
// module drives VT-x itself and behaves as hardware KVM. docs/flavours.md
// explains each one.
#pragma once

#include <dune/dune.h>

#include "kvm/backend.h"

namespace dune {

struct FlavourTraits {
  dune_flavour flavour = DUNE_FLAVOUR_UNKNOWN;

  // Where a guest ring-3 `syscall` lands. Hardware: at CPL 0 with the kernel
  // code segment, as the SDM says. PVM: still at CPL 3.
  bool syscall_lands_in_ring0 = true;

  // How the guest gets back to ring 3 after a forwarded syscall. Ring 0
  // landing: the stub executes sysretq (CPL 0 -> 3). Ring 3 landing: sysretq
  // faults there, so the host sets RIP and RFLAGS from RCX and R11 itself.
  bool return_by_sysret() const { return syscall_lands_in_ring0; }

  // How a guest access the host refuses (no memory behind a valid guest page)
  // comes back. Upstream KVM: KVM_RUN fails with EFAULT (or a memory-fault exit),
  // RIP still at the instruction. PVM: a KVM_EXIT_MMIO exit with the access
  // dropped and RIP already past the instruction.
  bool host_faults_as_mmio = false;

  // The type of TSS the guest's TR says it holds at entry. VT-x's entry checks
  // want a busy 64-bit TSS (11). AMD-V checks nothing and the CPU ignores the
  // busy bit; but QEMU's emulation of AMD-V (the AMD test bed) takes a ring-3
  // `out` through the TSS's I/O bitmap only when TR says "available" (9), and
  // raises #GP on every hypercall otherwise (docs/platform-notes.md).
  bool tr_busy = true;

  // Whether the TLB may be flushed by the guest itself, in ring 0 (invlpg, a
  // CR3 reload through a DPL-3 gate), instead of by a hypercall whose host side
  // makes KVM drop the translations. Hardware (VT-x, AMD-V, dune.ko): guest
  // ring 0 runs natively and a flush costs no VM exit. PVM: guest ring 0 is
  // emulated and its shadow page tables need the host's invalidation anyway.
  bool tlb_flush_in_guest = false;

  // Whether dune_vm_page_walk over pgroot reads and writes the entries in the
  // guest (classic/guest_walk.h) instead of a hypercall per 64 entries. Only
  // ring-3 memory accesses: no flavour pays an exit for them, PVM included
  // (bench/dirty_tracking, docs/classic-api.md). The flush of a lowering it
  // found still follows tlb_flush_in_guest.
  bool page_walk_in_guest = true;

  // Whether guest ring 0 dispatches the exceptions the program registered a
  // Dune handler for (monitor/exception_gate.h): the handler and its return
  // without a VM exit. Hardware only: on PVM every ring-0 instruction of the
  // gate would be emulated, and its exits cost what the host path costs.
  // DUNE_EXCEPTION_GATE=0 turns it off, =1 on (traits_of_backend).
  bool exceptions_in_guest = false;

  // Whether a debugger's hardware breakpoints and watchpoints work: KVM's own
  // debug registers for the guest (KVM_SET_GUEST_DEBUG), a hit a
  // KVM_EXIT_DEBUG. VT-x: yes (the Bochs beds). AMD-V: off until seen to work:
  // in the only AMD bed (QEMU's emulated SVM) the call succeeds and no hit
  // ever exits; a watchpoint that silently never fires is worse than none.
  // PVM: the same, and it ignores the guest's own DR7 as well (probed
  // 2026-12-07). The module has no such call. Without them gdb is told Z1-Z4 are not
  // supported, and watches by single-stepping (set can-use-hw-watchpoints 0).
  bool hardware_breakpoints = false;
};

// Detects the flavour of /dev/kvm from the loaded KVM modules and the CPU
// (cheap: a few sysfs lookups). DUNE_FLAVOUR=vmx|svm|pvm in the environment overrides it.
FlavourTraits detect_flavour();
FlavourTraits traits_for(dune_flavour f);
// The traits of the hypervisor behind `backend`: always DUNE_FLAVOUR_MODULE's
// for the module (DUNE_FLAVOUR does not apply), detect_flavour() for /dev/kvm.
FlavourTraits traits_of_backend(Backend backend);

}  // namespace dune
