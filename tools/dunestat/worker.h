// worker.h - one measuring process per mode.
//
// A process in Dune mode cannot leave it, so each mode gets a forked worker:
// the native one measures as it is; the Dune one measures the VM exit floor
// first (outside Dune mode), then calls dune_init_and_enter() and measures the
// rest. Each sends its rows back over a pipe as it goes.
#pragma once

#include <optional>

#include "budget.h"
#include "rows.h"
#include "worker_report.h"

namespace dunestat {

struct WorkerPlan {
  RowSet rows;             // to measure (rows_to_measure of the shown ones)
  Budget budget;
  std::optional<int> cpu;  // pin the worker here
};

// Forks the worker for `mode`, waits for it and returns what it reported;
// `trouble` says how it ended if that was not well.
WorkerReport run_worker(Mode mode, const WorkerPlan& plan);

}  // namespace dunestat
