// format_json.cpp - the report as one JSON object (--json).
#include <fmt/format.h>

#include "common/json_string.h"
#include "formats.h"

namespace dunestat {
namespace {

using dune_tools::json_quote;

std::string number_or_null(std::optional<double> v) { return v ? fmt::format("{}", *v) : "null"; }

std::string summary_json(const Column& c) {
  if (!c.figures) return "null";
  const Summary& s = *c.figures;
  return fmt::format(R"({{"reps": {}, "min": {}, "median": {}, "p90": {}, "max": {}}})", s.reps, s.min, s.median,
                     s.p90, s.max);
}

std::string missing_json(const Column& c) { return c.figures ? "null" : json_quote(c.missing); }

std::string row_json(const RowReport& r) {
  const RowInfo& i = *r.info;
  std::string s = fmt::format(R"(    {{"key": {}, "title": {}, "unit": {}, "method": {},)", json_quote(i.key),
                              json_quote(i.title), json_quote(i.unit), json_quote(i.method));
  s += fmt::format("\n     \"native\": {}, \"native_missing\": {},", summary_json(r.native), missing_json(r.native));
  s += fmt::format("\n     \"dune\": {}, \"dune_missing\": {},", summary_json(r.dune), missing_json(r.dune));
  s += fmt::format("\n     \"dune_to_native\": {}", number_or_null(r.dune_to_native));
  if (i.id == RowId::kSyscall) s += fmt::format(", \"dune_to_floor\": {}", number_or_null(r.dune_to_floor));
  if (r.has_per_fault())
    s += fmt::format(",\n     \"per_fault\": {{\"unit\": \"cycles/fault\", \"faults_per_rep\": {}, \"native\": {}, "
                     "\"dune\": {}}}",
                     i.faults_per_rep, summary_json(r.per_fault(r.native)), summary_json(r.per_fault(r.dune)));
  return s + "}";
}

}  // namespace

std::string format_json(const Report& r) {
  const Machine& m = r.machine;
  std::string s = "{\n  \"tool\": \"dunestat\",\n  \"unit\": \"cycles\",\n";
  s += fmt::format(
      "  \"machine\": {{\"cpu\": {}, \"kernel\": {}, \"kvm_flavour\": {}, \"kvm\": {}, \"kvm_device\": {}, "
      "\"nested\": {}, \"outer_hypervisor\": {}, \"constant_tsc\": {}, \"tsc\": {}, \"tsc_hz\": {}}},\n",
      json_quote(m.cpu_model), json_quote(m.kernel), json_quote(m.flavour), json_quote(describe_kvm(m)), m.kvm_device, m.nested,
      m.outer_hypervisor.empty() ? "null" : json_quote(m.outer_hypervisor), tsc_is_constant(m),
      json_quote(describe_tsc(m)), m.tsc_hz > 0 ? fmt::format("{}", m.tsc_hz) : "null");
  s += fmt::format("  \"settings\": {{\"iterations\": {}, \"seconds\": {}, \"cpu\": {}}},\n",
                   r.iterations ? fmt::format("{}", *r.iterations) : "null",
                   r.iterations ? "null" : fmt::format("{}", r.seconds),
                   r.cpu ? fmt::format("{}", *r.cpu) : "null");
  s += fmt::format("  \"tsc_overhead\": {{\"native\": {}, \"dune\": {}}},\n", number_or_null(r.overhead_native),
                   number_or_null(r.overhead_dune));
  s += fmt::format("  \"dune\": {{\"available\": {}, \"reason\": {}}},\n", r.dune_available,
                   r.dune_available ? "null" : json_quote(r.dune_missing));
  s += "  \"rows\": [\n";
  for (size_t i = 0; i < r.rows.size(); ++i) s += row_json(r.rows[i]) + (i + 1 < r.rows.size() ? ",\n" : "\n");
  s += "  ],\n  \"problems\": [";
  for (size_t i = 0; i < r.problems.size(); ++i) s += (i ? ", " : "") + json_quote(r.problems[i]);
  return s + "]\n}\n";
}

}  // namespace dunestat
