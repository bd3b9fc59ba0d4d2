// machine_probe.cpp - probe_machine(): the facts of machine.h read from this machine.
#include <cpuid.h>
#include <dune/dune.h>
#include <sys/stat.h>
#include <sys/utsname.h>

#include <cstdlib>
#include <cstring>
#include <fstream>
#include <sstream>

#include "machine.h"

namespace dunestat {
namespace {

std::string read_text_file(const char* path) {
  std::ifstream in(path);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

std::string hypervisor_signature() {
  unsigned a, b, c, d;
  __cpuid(0x40000000, a, b, c, d);
  char sig[13];
  std::memcpy(sig, &b, 4);
  std::memcpy(sig + 4, &c, 4);
  std::memcpy(sig + 8, &d, 4);
  sig[12] = '\0';
  std::string s(sig);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\0')) s.pop_back();
  return s;
}

}  // namespace

Machine probe_machine() {
  Machine m;
  std::string cpuinfo = read_text_file("/proc/cpuinfo");
  m.cpu_model = cpu_model_from_cpuinfo(cpuinfo);
  m.constant_tsc = cpuinfo_has_flag(cpuinfo, "constant_tsc");
  m.nonstop_tsc = cpuinfo_has_flag(cpuinfo, "nonstop_tsc");
  struct utsname u;
  m.kernel = uname(&u) == 0 ? std::string(u.sysname) + " " + u.release : "unknown kernel";
  dune_flavour flavour = dune_get_flavour();
  m.flavour = dune_flavour_name(flavour);
  // As libdune finds them: the module's device, or KVM's.
  bool module = flavour == DUNE_FLAVOUR_MODULE;
  const char* dev = std::getenv(module ? "DUNE_MODULE_DEVICE" : "DUNE_KVM_DEVICE");
  m.kvm_path = dev && *dev ? dev : module ? "/dev/dune" : "/dev/kvm";
  struct stat st;
  m.kvm_device = stat(m.kvm_path.c_str(), &st) == 0;
  unsigned a, b, c, d;
  __cpuid(1, a, b, c, d);
  m.nested = (c >> 31) & 1;
  if (m.nested) m.outer_hypervisor = hypervisor_signature();
  if (__get_cpuid(0x80000007, &a, &b, &c, &d)) m.invariant_tsc = (d >> 8) & 1;
  return m;
}

}  // namespace dunestat
