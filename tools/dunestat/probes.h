// probes.h - the measured operations, run in the calling process as it is
// (natively, or in Dune mode after dune_init_and_enter).
#pragma once

#include "budget.h"
#include "rows.h"
#include "worker_report.h"

namespace dunestat {

// Raw cycles of each repetition of row `id` (TSC overhead not subtracted), or
// why it could not be measured. The User fault and Appel rows need
// install_fault_handler first. The VM exit floor must run outside Dune mode.
RowOutcome measure_row(RowId id, const Budget& budget);

}  // namespace dunestat
