// probes.h - the measured operations, run in the calling process as it is
// (natively, or in Dune mode after dune_init_and_enter).
#pragma once

#include <utility>

#include "budget.h"
#include "floor_source.h"
#include "rows.h"
#include "worker_report.h"

namespace dunestat {

// Raw cycles of each repetition of row `id` (TSC overhead not subtracted), or
// why it could not be measured. The User fault and Appel rows protect pages as
// `mode` does (set_access) and need install_fault_handler(mode) first. Every
// row but the VM exit floor:
RowOutcome measure_row(RowId id, Mode mode, const Budget& budget);

// The VM exit floor (first) and, with_syscall, the System call row (second),
// in alternate batches, so that the ratio of the two compares the same moments.
std::pair<RowOutcome, RowOutcome> measure_floor_and_syscall(const Budget& budget, FloorSource& floor,
                                                            bool with_syscall = true);
RowOutcome measure_floor(const Budget& budget, FloorSource& floor);

}  // namespace dunestat
