// gdb_signals.h - Linux signal numbers and the remote protocol's own (gdb's target signals).
#pragma once

namespace dune::gdb {

// gdb's number for a Linux signal (143, gdb's "unknown", where it has none).
int signal_to_gdb(int linux_signo);
// The Linux signal for gdb's number; 0 for gdb's 0 or one Linux lacks.
int signal_from_gdb(int gdb_signo);

}  // namespace dune::gdb
