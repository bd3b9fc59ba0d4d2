// format_table.cpp - the aligned text table: a header about the machine, then
// each row's native and Dune figures on consecutive lines.
#include <fmt/format.h>

#include <array>
#include <vector>

#include "formats.h"

namespace dunestat {
namespace {

constexpr size_t kColumns = 9;
// operation, unit, mode: left-aligned; the figures and the ratio: right-aligned.
constexpr size_t kFirstNumeric = 3;

// Cells before `note_at` are aligned in columns; the note runs on from there.
struct Line {
  std::array<std::string, kColumns> cells;
  size_t note_at = kColumns;
  std::string note;
};

void add_mode(std::vector<Line>* lines, std::string op, std::string unit, const char* mode, const Column& c,
              std::string ratio) {
  Line l{{std::move(op), std::move(unit), mode}};
  if (c.figures) {
    const Summary& s = *c.figures;
    l.cells[3] = grouped(static_cast<double>(s.reps));
    l.cells[4] = grouped(s.min);
    l.cells[5] = grouped(s.median);
    l.cells[6] = grouped(s.p90);
    l.cells[7] = grouped(s.max);
    l.cells[8] = std::move(ratio);
  } else {
    l.note_at = 3;
    l.note = fmt::format("({})", c.missing);
  }
  lines->push_back(std::move(l));
}

void add_row(std::vector<Line>* lines, const RowReport& r) {
  std::string ratio = r.dune_to_native ? ratio_text(*r.dune_to_native) : "";
  add_mode(lines, r.info->title, r.info->unit, "native", r.native, "");
  add_mode(lines, "", "", "Dune", r.dune, ratio);
  if (r.has_per_fault()) {
    add_mode(lines, "", "cycles/fault", "native", r.per_fault(r.native), "");
    add_mode(lines, "", "", "Dune", r.per_fault(r.dune), ratio);
  }
  if (r.dune_to_floor) lines->push_back({{}, 2, fmt::format("Dune / VM exit floor: {:.3f}", *r.dune_to_floor)});
}

std::string render(const std::vector<Line>& lines) {
  std::array<size_t, kColumns> width{};
  for (const Line& l : lines)
    for (size_t i = 0; i < l.note_at; ++i) width[i] = std::max(width[i], l.cells[i].size());
  std::string out;
  for (const Line& l : lines) {
    std::string s;
    for (size_t i = 0; i < l.note_at; ++i) {
      if (i) s += "  ";
      s += i < kFirstNumeric ? fmt::format("{:<{}}", l.cells[i], width[i])
                             : fmt::format("{:>{}}", l.cells[i], width[i]);
    }
    if (!l.note.empty()) s += "  " + l.note;
    while (!s.empty() && s.back() == ' ') s.pop_back();
    out += s + "\n";
  }
  return out;
}

}  // namespace

std::string format_table(const Report& r) {
  const Machine& m = r.machine;
  std::string out = "dunestat: the same operations natively and in Dune mode, in one run\n";
  out += fmt::format("CPU          {}\n", m.cpu_model);
  out += fmt::format("kernel       {}\n", m.kernel);
  out += fmt::format("KVM          {}\n", describe_kvm(m));
  out += fmt::format("figures      {}; median TSC overhead subtracted", describe_tsc(m));
  std::string subtracted;
  if (r.overhead_native) subtracted = fmt::format("native {}", grouped(*r.overhead_native));
  if (r.overhead_dune) subtracted += fmt::format("{}Dune {}", subtracted.empty() ? "" : ", ", grouped(*r.overhead_dune));
  out += subtracted.empty() ? "\n" : fmt::format(" ({})\n", subtracted);
  out += fmt::format("repetitions  {}{}\n", repetitions_text(r),
                     r.cpu ? fmt::format(", both workers pinned to CPU {}", *r.cpu) : ", not pinned");
  out += r.dune_available ? "Dune mode    entered by a worker process (dune_init_and_enter)\n"
                          : fmt::format("Dune mode    unavailable: {}\n", r.dune_missing);
  out += "\n";

  std::vector<Line> lines;
  lines.push_back({{"operation", "unit", "mode", "reps", "min", "median", "p90", "max", "Dune/native"}});
  for (const RowReport& row : r.rows) add_row(&lines, row);
  out += render(lines);
  for (const std::string& p : r.problems) out += fmt::format("problem: {}\n", p);
  return out;
}

}  // namespace dunestat
