// report.h - both workers' figures put together: overhead subtracted, ratios computed.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "machine.h"
#include "options.h"
#include "rows.h"
#include "stats.h"
#include "worker_report.h"

namespace dunestat {

// One row in one mode: figures, or why there are none.
struct Column {
  std::optional<Summary> figures;  // TSC overhead subtracted (the TSC row itself: as read)
  std::string missing;
};

struct RowReport {
  const RowInfo* info = nullptr;
  Column native, dune;
  std::optional<double> dune_to_native;  // ratio of the medians
  std::optional<double> dune_to_floor;   // System call only: Dune median / VM exit floor median

  // The Appel rows per fault: figures per pass divided by the faults of a pass.
  bool has_per_fault() const { return info->faults_per_rep > 1; }
  Column per_fault(const Column& c) const;
};

struct Report {
  Machine machine;
  std::optional<uint64_t> iterations;  // else seconds per row and mode
  double seconds = 0;
  std::optional<int> cpu;
  bool dune_available = false;
  std::string dune_missing;            // why Dune mode could not be entered
  std::optional<double> overhead_native, overhead_dune;  // TSC overhead subtracted
  std::vector<RowReport> rows;         // the rows shown, in registry order
  std::vector<std::string> problems;   // failed measurements and workers
};

Report build_report(const Machine& machine, const Options& options, const WorkerReport& native,
                    const WorkerReport& dune);

// The median ratio of two columns, when both have a positive median.
std::optional<double> median_ratio(const Column& over, const Column& under);

}  // namespace dunestat
