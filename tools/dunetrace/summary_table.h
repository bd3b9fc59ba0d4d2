// summary_table.h - the -c tables: VM exits by reason, syscalls by name, other events.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "trace_protocol.h"

namespace dunetrace {

struct SummaryRow {
  std::string name;
  uint64_t count = 0;
  uint64_t errors = 0;
  uint64_t cycles = 0;  // total host-side cycles
  uint64_t min = 0, max = 0;
  double percent = 0;   // of the table's total cycles
  uint64_t avg() const { return count ? cycles / count : 0; }
};

struct SummaryTableRows {
  std::string title;     // "exit" or "syscall": what a row's name is
  std::vector<SummaryRow> rows;  // sorted: most cycles first, then most calls, then name
  SummaryRow total;
};

struct Summary {
  SummaryTableRows exits;
  SummaryTableRows syscalls;
  // Counts of the other events: "page_fault faults", "SIGSEGV signals", ...
  std::vector<std::pair<std::string, uint64_t>> others;
};

// From the shared table (values read once each); rows with a zero count are left out.
Summary build_summary(const dune::trace_wire::SummaryTable& t, bool with_exits, bool with_syscalls);
// A table like strace -c's, and the others below it.
std::string format_summary_text(const Summary& s);
// One JSON object per row, totals with "name":"total", and one per other count.
std::string format_summary_json(const Summary& s);

}  // namespace dunetrace
