#include "report.h"

#include <fmt/format.h>

namespace dunestat {
namespace {

std::optional<double> overhead_of(const WorkerReport& w) {
  const RowOutcome* tsc = w.row(RowId::kTsc);
  if (!tsc || !tsc->summary) return std::nullopt;
  return tsc->summary->median;
}

Column column_of(const WorkerReport& w, RowId id, std::optional<double> overhead) {
  if (w.mode == Mode::kDune && !w.entered && id != RowId::kExitFloor)
    return {std::nullopt, "Dune mode unavailable"};
  const RowOutcome* o = w.row(id);
  if (!o) {
    std::string why = w.trouble.empty() ? "not measured" : w.trouble;
    return {std::nullopt, fmt::format("the {} worker ended before this row: {}", mode_name(w.mode), why)};
  }
  if (!o->summary) return {std::nullopt, o->missing};
  if (id == RowId::kTsc || !overhead) return {o->summary, {}};
  return {minus_overhead(*o->summary, *overhead), {}};
}

void note_failures(const WorkerReport& w, std::vector<std::string>* problems) {
  if (!w.trouble.empty()) problems->push_back(w.trouble);
  for (const RowInfo& r : all_rows()) {
    const RowOutcome* o = w.row(r.id);
    if (o && o->failed) problems->push_back(fmt::format("{} {}: {}", mode_name(w.mode), r.key, o->missing));
  }
}

}  // namespace

Column RowReport::per_fault(const Column& c) const {
  if (!c.figures) return c;
  return {per_part(*c.figures, info->faults_per_rep), {}};
}

std::optional<double> median_ratio(const Column& over, const Column& under) {
  if (!over.figures || !under.figures || over.figures->median <= 0 || under.figures->median <= 0)
    return std::nullopt;
  return over.figures->median / under.figures->median;
}

Report build_report(const Machine& machine, const Options& options, const WorkerReport& native,
                    const WorkerReport& dune) {
  Report rep;
  rep.machine = machine;
  rep.iterations = options.iterations;
  rep.seconds = options.seconds;
  rep.cpu = options.cpu;
  rep.dune_available = dune.entered;
  if (dune.unavailable)
    rep.dune_missing = *dune.unavailable;
  else if (!dune.entered)
    rep.dune_missing = dune.trouble.empty() ? "the Dune worker ended before entering Dune mode" : dune.trouble;
  rep.overhead_native = overhead_of(native);
  rep.overhead_dune = overhead_of(dune);

  // The Dune worker measures the floor before it enters; if it never did, the
  // native worker's overhead is the one for that host-side figure.
  std::optional<double> dune_overhead = rep.overhead_dune ? rep.overhead_dune : rep.overhead_native;
  Column floor_dune = column_of(dune, RowId::kExitFloor, dune_overhead);
  for (const RowInfo& info : all_rows()) {
    if (!options.rows.test(row_index(info.id))) continue;
    RowReport r;
    r.info = &info;
    r.native = column_of(native, info.id, rep.overhead_native);
    r.dune = column_of(dune, info.id, dune_overhead);
    r.dune_to_native = median_ratio(r.dune, r.native);
    if (info.id == RowId::kSyscall) r.dune_to_floor = median_ratio(r.dune, floor_dune);
    rep.rows.push_back(std::move(r));
  }
  note_failures(native, &rep.problems);
  note_failures(dune, &rep.problems);
  return rep;
}

}  // namespace dunestat
