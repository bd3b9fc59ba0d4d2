// worker_report.h - what a measuring process sends back, and its line format on the pipe.
//
// Each worker process (one native, one in Dune mode) writes one line per row
// as soon as the row is measured, so the rows measured before a crash are
// kept. Figures are raw cycles: the TSC overhead is subtracted by the report.
#pragma once

#include <array>
#include <optional>
#include <string>
#include <string_view>

#include "rows.h"
#include "stats.h"

namespace dunestat {

enum class Mode { kNative, kDune };
const char* mode_name(Mode m);  // "native" or "dune"

struct RowOutcome {
  std::optional<Summary> summary;  // raw cycles per repetition
  std::string missing;             // why there is no summary
  bool failed = false;             // missing through an error, not for want of KVM
};

struct WorkerReport {
  Mode mode = Mode::kNative;
  bool entered = false;                    // the Dune worker is in Dune mode
  std::optional<std::string> unavailable;  // why Dune mode could not be entered
  std::array<std::optional<RowOutcome>, kRowCount> rows;  // nullopt: not measured
  bool complete = false;  // the worker got to its last line
  std::string trouble;    // what went wrong with the worker itself, if anything

  const RowOutcome* row(RowId id) const;
};

// The lines, each ending in '\n'. Reasons are flattened to one line.
std::string summary_line(RowId id, const Summary& s);
std::string missing_line(RowId id, bool failed, std::string_view why);
std::string unavailable_line(std::string_view why);
std::string entered_line();
std::string end_line();

// Reads what a worker wrote. A line it cannot read is noted in `trouble`.
WorkerReport decode_worker_report(Mode mode, std::string_view text);

}  // namespace dunestat
