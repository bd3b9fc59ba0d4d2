#include "kvm/flavour.h"

#include <fcntl.h>
#include <sys/stat.h>

#include <cstdlib>
#include <cstring>

#include "base/raw_syscall.h"
#include "kvm/host_cpu.h"

namespace dune {
namespace {

bool path_exists(const char* p) {
  struct stat st;
  return sys::syscall6(SYS_newfstatat, -100, reinterpret_cast<long>(p), reinterpret_cast<long>(&st),
                       0) == 0;
}

}  // namespace

FlavourTraits traits_for(dune_flavour f) {
  FlavourTraits t;
  t.flavour = f;
  switch (f) {
    case DUNE_FLAVOUR_PVM:
      t.syscall_lands_in_ring0 = false;
      t.host_faults_as_mmio = true;
      break;
    case DUNE_FLAVOUR_SVM:
      t.tr_busy = false;
      t.tlb_flush_in_guest = true;
      t.exceptions_in_guest = true;
      break;
    case DUNE_FLAVOUR_VMX:
    case DUNE_FLAVOUR_MODULE:
      t.tlb_flush_in_guest = true;
      t.exceptions_in_guest = true;
      t.hardware_breakpoints = f == DUNE_FLAVOUR_VMX;
      break;
    case DUNE_FLAVOUR_OTHER:
    case DUNE_FLAVOUR_UNKNOWN:
      t.syscall_lands_in_ring0 = true;
      t.host_faults_as_mmio = false;
      break;
  }
  return t;
}

FlavourTraits detect_flavour() {
  if (const char* forced = std::getenv("DUNE_FLAVOUR")) {
    if (!std::strcmp(forced, "vmx")) return traits_for(DUNE_FLAVOUR_VMX);
    if (!std::strcmp(forced, "svm")) return traits_for(DUNE_FLAVOUR_SVM);
    if (!std::strcmp(forced, "pvm")) return traits_for(DUNE_FLAVOUR_PVM);
  }
  // The vendor module that registered /dev/kvm. PVM first: it can be loaded on
  // a host that also shows vmx or svm.
  if (path_exists("/sys/module/kvm_pvm")) return traits_for(DUNE_FLAVOUR_PVM);
  if (path_exists("/sys/module/kvm_intel")) return traits_for(DUNE_FLAVOUR_VMX);
  if (path_exists("/sys/module/kvm_amd")) return traits_for(DUNE_FLAVOUR_SVM);
  // Built-in modules do not always appear in /sys/module: fall back on the CPU.
  const HostCpu& cpu = host_cpu();
  if (cpu.vmx) return traits_for(DUNE_FLAVOUR_VMX);
  if (cpu.svm) return traits_for(DUNE_FLAVOUR_SVM);
  return traits_for(DUNE_FLAVOUR_OTHER);
}

FlavourTraits traits_of_backend(Backend backend) {
  FlavourTraits t = backend == Backend::kModule ? traits_for(DUNE_FLAVOUR_MODULE) : detect_flavour();
  // 0: the host dispatches every exception; 1: the gate on any flavour (PVM
  // too, to measure it there).
  if (const char* gate = std::getenv("DUNE_EXCEPTION_GATE")) {
    if (!std::strcmp(gate, "0")) t.exceptions_in_guest = false;
    if (!std::strcmp(gate, "1")) t.exceptions_in_guest = true;
  }
  return t;
}

}  // namespace dune
