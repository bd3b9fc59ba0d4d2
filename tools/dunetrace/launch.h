// launch.h - starting the traced program: the shim preloaded, DUNE_TRACE set.
#pragma once

#include <signal.h>
#include <sys/types.h>

#include <cstdint>
#include <string>
#include <vector>

#include "parsed.h"
#include "trace_config.h"

namespace dunetrace {

// The environment the program gets: dunetrace's, with shim first in
// LD_PRELOAD and DUNE_TRACE=trace.
std::vector<std::string> traced_environment(const std::string& shim, const std::string& trace);

// The program's own execve as the shim would have captured it (the shim
// starts after it): its blobs, and in args its arguments (addresses in
// dunetrace's copy). The first line of the trace, as strace's.
std::string first_exec_captures(const std::string& program, const std::vector<std::string>& command,
                                const std::vector<std::string>& env, uint32_t limit, uint64_t (&args)[6]);

// Forks and execs program (command[0] resolved) with shim first in
// LD_PRELOAD and cfg (its root: the child) in DUNE_TRACE; the child gets back
// the SIGPIPE disposition and signal mask dunetrace replaced. The child's pid,
// or why it could not run (the failed child is reaped).
Parsed<pid_t> launch_traced(const std::vector<std::string>& command, const std::string& program,
                            const std::string& shim, const dune::TraceConfig& cfg, sighandler_t old_sigpipe,
                            const sigset_t& old_mask);

}  // namespace dunetrace
