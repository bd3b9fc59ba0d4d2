#include "debug/gdb_signals.h"

#include <csignal>

namespace dune::gdb {

namespace {

constexpr int kUnknown = 143;
// gdb's realtime numbering: 33..63 are 45..75, 32 is 77, 64 is 78.
constexpr int kRealtime33 = 45;
constexpr int kRealtime32 = 77;
constexpr int kRealtime64 = 78;

// Index: the Linux signal 1..31; value: gdb's number (gdb's own order, from
// the old BSD numbering).
constexpr int kToGdb[32] = {
    0,
    1,   // SIGHUP
    2,   // SIGINT
    3,   // SIGQUIT
    4,   // SIGILL
    5,   // SIGTRAP
    6,   // SIGABRT
    10,  // SIGBUS
    8,   // SIGFPE
    9,   // SIGKILL
    30,  // SIGUSR1
    11,  // SIGSEGV
    31,  // SIGUSR2
    13,  // SIGPIPE
    14,  // SIGALRM
    15,  // SIGTERM
    kUnknown,  // SIGSTKFLT: gdb has none
    20,  // SIGCHLD
    19,  // SIGCONT
    17,  // SIGSTOP
    18,  // SIGTSTP
    21,  // SIGTTIN
    22,  // SIGTTOU
    16,  // SIGURG
    24,  // SIGXCPU
    25,  // SIGXFSZ
    26,  // SIGVTALRM
    27,  // SIGPROF
    28,  // SIGWINCH
    23,  // SIGIO
    32,  // SIGPWR
    12,  // SIGSYS
};

}  // namespace

int signal_to_gdb(int s) {
  if (s >= 1 && s < 32) return kToGdb[s];
  if (s == 32) return kRealtime32;
  if (s >= 33 && s <= 63) return kRealtime33 + (s - 33);
  if (s == 64) return kRealtime64;
  return s == 0 ? 0 : kUnknown;
}

int signal_from_gdb(int g) {
  if (g <= 0) return 0;
  for (int s = 1; s < 32; ++s)
    if (kToGdb[s] == g && g != kUnknown) return s;
  if (g == kRealtime32) return 32;
  if (g >= kRealtime33 && g < kRealtime33 + 31) return 33 + (g - kRealtime33);
  if (g == kRealtime64) return 64;
  return 0;
}

}  // namespace dune::gdb
