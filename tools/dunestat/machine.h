// machine.h - what the header of a report says about the machine it ran on.
#pragma once

#include <string>
#include <string_view>

namespace dunestat {

struct Machine {
  std::string cpu_model;         // /proc/cpuinfo "model name"
  std::string kernel;            // uname: sysname and release
  std::string flavour;           // dune_flavour_name(dune_get_flavour()): vmx, svm, pvm, dune-module, other
  std::string kvm_path;          // the device libdune opens: /dev/kvm, or /dev/dune for dune-module
  bool kvm_device = false;       // whether it exists
  bool nested = false;           // CPUID.1:ECX[31]: this host is itself a virtual machine
  std::string outer_hypervisor;  // CPUID 0x40000000 signature when nested, e.g. KVMKVMKVM
  bool invariant_tsc = false;    // CPUID 0x80000007 EDX[8]
  bool constant_tsc = false;     // /proc/cpuinfo flag
  bool nonstop_tsc = false;      // /proc/cpuinfo flag
  double tsc_hz = 0;             // TSC ticks per second over the run; 0 if unknown
};

// The first "model name" of /proc/cpuinfo's text; "unknown CPU" without one.
std::string cpu_model_from_cpuinfo(std::string_view cpuinfo);
// Whether the first "flags" line of /proc/cpuinfo's text lists `flag`.
bool cpuinfo_has_flag(std::string_view cpuinfo, std::string_view flag);

// The TSC ticks at one rate whatever the CPU's frequency and sleep states.
bool tsc_is_constant(const Machine& m);
// A hypervisor's CPUID 0x40000000 signature with its common name where known:
// "KVMKVMKVM" -> KVM, signature "KVMKVMKVM".
std::string hypervisor_name(std::string_view signature);
// One line each for the report's header.
std::string describe_kvm(const Machine& m);
std::string describe_tsc(const Machine& m);

// Reads all of the above from this machine except tsc_hz.
Machine probe_machine();

}  // namespace dunestat
