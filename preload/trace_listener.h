// trace_listener.h - the shim's side of dunetrace: events to dunetrace's socket or summary.
#pragma once

namespace dune {

// DUNE_TRACE (set by dunetrace) in hand: connects to dunetrace and installs
// the event listener. Called before dune_init, so that deaths by signals are
// traced too. Anything wrong: one warning, and the program runs untraced.
void start_tracing(const char* spec);

}  // namespace dune
