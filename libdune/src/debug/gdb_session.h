// gdb_session.h - the gdb server in the library: DUNE_GDB=[HOST:]PORT (or a
// Unix socket path) makes the process wait, before its first instruction in
// Dune mode, for gdb's `target remote`; gdb then sees the guest's threads,
// registers and memory, with breakpoints, steps and signal stops.
#pragma once

#include <cstdint>

namespace dune::debug {

// DUNE_GDB is set: dune_init starts the server (wanted() before the runtime's
// fatal-signal hook is chosen, so a death by signal is reported to gdb).
bool wanted();
// Listens and starts the server's thread (native, every signal blocked), and
// asks the first guest thread to wait for gdb. False, with one line logged,
// when it cannot listen: the program then runs without it.
bool start_server();
// The signal that kicks a thread out of the guest for a stop: reserved by the
// library while the server runs (the program cannot block or catch it).
int kick_signal();
// The program ends: gdb, if connected, gets "W status" or "X signal".
void session_ended(char kind, int value);
// In a forked child: no server here; the parent's breakpoints are taken out
// of the child's copy of the memory.
void forget_after_fork();
// The server's thread, not one of the program's (0 if none).
int server_tid();

}  // namespace dune::debug
