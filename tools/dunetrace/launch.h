// launch.h - starting the traced program: the shim preloaded, DUNE_TRACE set.
#pragma once

#include <signal.h>
#include <sys/types.h>

#include <string>
#include <vector>

#include "parsed.h"
#include "trace_config.h"

namespace dunetrace {

// Forks and execs program (command[0] resolved) with shim first in
// LD_PRELOAD and cfg (its root: the child) in DUNE_TRACE; the child gets back
// the SIGPIPE disposition and signal mask dunetrace replaced. The child's pid,
// or why it could not run (the failed child is reaped).
Parsed<pid_t> launch_traced(const std::vector<std::string>& command, const std::string& program,
                            const std::string& shim, const dune::TraceConfig& cfg, sighandler_t old_sigpipe,
                            const sigset_t& old_mask);

}  // namespace dunetrace
