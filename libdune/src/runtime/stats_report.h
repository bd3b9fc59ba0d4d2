// stats_report.h - DUNE_STATS: a JSON summary of each process's Dune mode at its end.
#pragma once

namespace dune {

class Runtime;

// Reads DUNE_STATS (a path; "%p" in it becomes the pid, else processes append
// a line each) at dune_init.
void configure_stats_report();
// Writes the summary if DUNE_STATS asked for one. end: "exit", "signal" or
// "exec"; status: the exit status or signal number.
// Async-signal-safe (a fatal signal's handler writes it).
void write_stats_report(Runtime& rt, const char* end, int status);
bool stats_report_enabled();

}  // namespace dune
