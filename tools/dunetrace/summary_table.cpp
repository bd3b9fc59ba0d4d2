#include "summary_table.h"

#include <fmt/format.h>

#include <algorithm>

#include "json.h"
#include "names.h"

namespace dunetrace {

namespace {

using dune::trace_wire::SummaryCell;

SummaryRow row_of(std::string name, const SummaryCell& c) {
  SummaryRow r;
  r.name = std::move(name);
  r.count = c.count.load(std::memory_order_relaxed);
  r.errors = c.errors.load(std::memory_order_relaxed);
  r.cycles = c.cycles.load(std::memory_order_relaxed);
  r.min = r.count ? c.min.load(std::memory_order_relaxed) : 0;
  r.max = c.max.load(std::memory_order_relaxed);
  return r;
}

// Sorts, computes percentages and the total row.
void finish(SummaryTableRows& t) {
  std::sort(t.rows.begin(), t.rows.end(), [](const SummaryRow& a, const SummaryRow& b) {
    if (a.cycles != b.cycles) return a.cycles > b.cycles;
    if (a.count != b.count) return a.count > b.count;
    return a.name < b.name;
  });
  SummaryRow& total = t.total;
  total = SummaryRow{};
  total.name = "total";
  bool first = true;
  for (const SummaryRow& r : t.rows) {
    total.count += r.count;
    total.errors += r.errors;
    total.cycles += r.cycles;
    total.min = first ? r.min : std::min(total.min, r.min);
    total.max = std::max(total.max, r.max);
    first = false;
  }
  for (SummaryRow& r : t.rows) r.percent = total.cycles ? 100.0 * static_cast<double>(r.cycles) / static_cast<double>(total.cycles) : 0;
  total.percent = t.rows.empty() ? 0 : 100.0;
}

void format_table(std::string& out, const SummaryTableRows& t) {
  static constexpr char kHeader[] = "{:>6} {:>14} {:>10} {:>10} {:>10} {:>9} {:>7} {}\n";
  out += fmt::format(kHeader, "% cyc", "total cycles", "avg", "min", "max", "calls", "errors", t.title);
  out += fmt::format(kHeader, "------", "--------------", "----------", "----------", "----------", "---------",
                     "-------", std::string(16, '-'));
  auto line = [&](const SummaryRow& r) {
    out += fmt::format("{:>6.2f} {:>14} {:>10} {:>10} {:>10} {:>9} {:>7} {}\n", r.percent, r.cycles, r.avg(), r.min,
                       r.max, r.count, r.errors ? std::to_string(r.errors) : std::string(), r.name);
  };
  for (const SummaryRow& r : t.rows) line(r);
  out += fmt::format(kHeader, "------", "--------------", "----------", "----------", "----------", "---------",
                     "-------", std::string(16, '-'));
  line(t.total);
}

void json_row(std::string& out, const char* table, const SummaryRow& r) {
  JsonObject o;
  o.add("type", "summary");
  o.add("table", table);
  o.add("name", r.name);
  o.add("count", r.count);
  o.add("percent", r.percent);
  o.add("cycles", r.cycles);
  o.add("avg", r.avg());
  o.add("min", r.min);
  o.add("max", r.max);
  o.add("errors", r.errors);
  out += o.str();
  out += '\n';
}

}  // namespace

Summary build_summary(const dune::trace_wire::SummaryTable& t, bool with_exits, bool with_syscalls) {
  Summary s;
  s.exits.title = "exit";
  s.syscalls.title = "syscall";
  if (with_exits) {
    for (uint32_t k = kFirstExitKind; k <= kLastExitKind; ++k) {
      SummaryRow r = row_of(exit_reason_name(k), t.exits[k]);
      if (r.count) s.exits.rows.push_back(std::move(r));
    }
  }
  if (with_syscalls) {
    for (long nr = 0; nr < dune::trace_wire::kMaxSyscall; ++nr) {
      SummaryRow r = row_of(syscall_name(nr), t.syscalls[nr]);
      if (r.count) s.syscalls.rows.push_back(std::move(r));
    }
  }
  finish(s.exits);
  finish(s.syscalls);
  for (uint32_t v = 0; v < 32; ++v)
    if (uint64_t n = t.faults[v].load(std::memory_order_relaxed)) s.others.emplace_back(vector_name(v) + " faults", n);
  if (uint64_t n = t.host_faults.load(std::memory_order_relaxed)) s.others.emplace_back("host faults", n);
  if (uint64_t n = t.bad_stacks.load(std::memory_order_relaxed)) s.others.emplace_back("bad stack pointers", n);
  for (int sig = 1; sig <= dune::trace_wire::kMaxSignal; ++sig)
    if (uint64_t n = t.signals[sig].load(std::memory_order_relaxed)) s.others.emplace_back(signal_name(sig) + " delivered", n);
  if (uint64_t n = t.processes.load(std::memory_order_relaxed)) s.others.emplace_back("processes started", n);
  if (uint64_t n = t.threads.load(std::memory_order_relaxed)) s.others.emplace_back("threads started", n);
  return s;
}

std::string format_summary_text(const Summary& s) {
  std::string out;
  bool any = false;
  for (const SummaryTableRows* t : {&s.exits, &s.syscalls}) {
    if (t->rows.empty()) continue;
    if (any) out += '\n';
    format_table(out, *t);
    any = true;
  }
  if (!s.others.empty()) {
    if (any) out += '\n';
    for (const auto& [what, n] : s.others) out += fmt::format("{:>9} {}\n", n, what);
  }
  if (out.empty()) out = "no events\n";
  return out;
}

std::string format_summary_json(const Summary& s) {
  std::string out;
  for (const SummaryTableRows* t : {&s.exits, &s.syscalls}) {
    if (t->rows.empty()) continue;
    for (const SummaryRow& r : t->rows) json_row(out, t->title.c_str(), r);
    json_row(out, t->title.c_str(), t->total);
  }
  for (const auto& [what, n] : s.others) {
    JsonObject o;
    o.add("type", "summary");
    o.add("table", "other");
    o.add("name", what);
    o.add("count", n);
    out += o.str();
    out += '\n';
  }
  return out;
}

}  // namespace dunetrace
