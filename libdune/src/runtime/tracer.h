// tracer.h - whether a ptrace tracer (gdb, strace) traces the process. Its
// breakpoints, single steps and register reads would meet the library's host
// side, not the program in Dune mode: the shim leaves a program started under
// one native, and a breakpoint that reaches the library from a debugger that
// attached later is named as such before the SIGTRAP death.
#pragma once

#include <string_view>

namespace dune {

// The TracerPid field of a /proc/PID/status text: 0 for none, -1 if absent
// or malformed.
long tracer_pid_in_status(std::string_view status);

// The calling process's tracer: its pid and command name (empty if unknown);
// pid 0 if none, or if /proc cannot tell. No allocation: the shim asks before
// the program's malloc has run.
struct Tracer {
  long pid = 0;
  char name[32] = {};
  // The name to print: the command's, else "a debugger".
  const char* who() const { return name[0] ? name : "a debugger"; }
};
Tracer current_tracer();

}  // namespace dune
