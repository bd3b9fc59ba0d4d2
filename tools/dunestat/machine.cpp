#include "machine.h"

#include <fmt/format.h>

#include <optional>
#include <utility>

namespace dunestat {
namespace {

std::string_view trim(std::string_view s) {
  size_t a = s.find_first_not_of(" \t");
  if (a == std::string_view::npos) return {};
  size_t b = s.find_last_not_of(" \t");
  return s.substr(a, b - a + 1);
}

// The value of the first "key : value" line of /proc/cpuinfo whose key is `key`.
std::optional<std::string_view> cpuinfo_field(std::string_view text, std::string_view key) {
  while (!text.empty()) {
    size_t nl = text.find('\n');
    std::string_view line = text.substr(0, nl);
    text.remove_prefix(nl == std::string_view::npos ? text.size() : nl + 1);
    size_t colon = line.find(':');
    if (colon != std::string_view::npos && trim(line.substr(0, colon)) == key)
      return trim(line.substr(colon + 1));
  }
  return std::nullopt;
}

}  // namespace

std::string cpu_model_from_cpuinfo(std::string_view cpuinfo) {
  auto v = cpuinfo_field(cpuinfo, "model name");
  return v && !v->empty() ? std::string(*v) : "unknown CPU";
}

bool cpuinfo_has_flag(std::string_view cpuinfo, std::string_view flag) {
  auto flags = cpuinfo_field(cpuinfo, "flags");
  if (!flags) return false;
  std::string_view rest = *flags;
  while (!rest.empty()) {
    size_t sp = rest.find(' ');
    if (rest.substr(0, sp) == flag) return true;
    rest.remove_prefix(sp == std::string_view::npos ? rest.size() : sp + 1);
  }
  return false;
}

bool tsc_is_constant(const Machine& m) { return m.invariant_tsc || (m.constant_tsc && m.nonstop_tsc); }

std::string hypervisor_name(std::string_view signature) {
  // The vendor strings of CPUID 0x40000000 as the probe reads them (trailing blanks dropped).
  static constexpr std::pair<std::string_view, std::string_view> kKnown[] = {
      {"KVMKVMKVM", "KVM"},           {"TCGTCGTCGTCG", "QEMU TCG"}, {"Microsoft Hv", "Hyper-V"},
      {"VMwareVMware", "VMware"},     {"XenVMMXenVMM", "Xen"},      {"bhyve bhyve", "bhyve"},
      {"ACRNACRNACRN", "ACRN"},       {"VBoxVBoxVBox", "VirtualBox"}, {" lrpepyh  vr", "Parallels"},
  };
  for (auto [sig, name] : kKnown)
    if (signature == sig) return fmt::format("{}, signature \"{}\"", name, signature);
  return fmt::format("signature \"{}\"", signature);
}

std::string describe_kvm(const Machine& m) {
  std::string what;
  if (m.flavour == "vmx")
    what = "hardware KVM on Intel VT-x";
  else if (m.flavour == "svm")
    what = "hardware KVM on AMD-V";
  else if (m.flavour == "pvm")
    what = "PVM, a software hypervisor (pagetable-based virtualization)";
  else if (m.flavour == "dune-module")
    what = fmt::format("none: the Dune kernel module drives Intel VT-x itself ({})", m.kvm_path);
  else
    what = fmt::format("KVM of an unknown kind ({})", m.flavour.empty() ? "unknown" : m.flavour);
  if (!m.kvm_device) what += fmt::format(", but {} is missing", m.kvm_path);
  if (m.nested)
    what += m.outer_hypervisor.empty()
                ? "; nested: this host is itself a virtual machine"
                : fmt::format("; nested: this host is itself a virtual machine (under {})",
                              hypervisor_name(m.outer_hypervisor));
  else
    what += "; not nested";
  return what;
}

std::string describe_tsc(const Machine& m) {
  std::string why;
  auto add = [&why](const char* s) { why += why.empty() ? s : fmt::format(", {}", s); };
  if (m.invariant_tsc) add("CPUID invariant TSC");
  if (m.constant_tsc) add("constant_tsc");
  if (m.nonstop_tsc) add("nonstop_tsc");
  std::string rate = m.tsc_hz > 0 ? fmt::format(" at {:.2f} GHz", m.tsc_hz / 1e9) : "";
  if (tsc_is_constant(m)) return fmt::format("cycles of a constant TSC{} ({})", rate, why);
  return fmt::format("TSC cycles{}, but the TSC is not known to be constant ({}): they may not be "
                     "proportional to time",
                     rate, why.empty() ? "no invariant TSC, no constant_tsc" : why);
}

}  // namespace dunestat
