// session.h - one traced run: start the program under the shim, take its events, summarize.
#pragma once

#include <string>

#include "options.h"

namespace dunetrace {

class TraceOutput;

// Runs program (the resolved path of opts.command[0]) with shim preloaded and
// writes the trace to out. Returns dunetrace's exit status: the program's
// (128+N if a signal N killed it), kExitCannotRun if it could not be started.
int run_session(const Options& opts, const std::string& program, const std::string& shim, TraceOutput& out);

}  // namespace dunetrace
