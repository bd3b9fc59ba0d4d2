// options.h - dunetrace's command line (Boost.program_options).
#pragma once

#include <string>
#include <vector>

#include "event_filter.h"
#include "parsed.h"

namespace dunetrace {

// Exit statuses, as strace has them: bad usage, and a program that cannot run.
constexpr int kExitUsage = 2;
constexpr int kExitCannotRun = 127;

constexpr int kDefaultStackDepth = 16;
constexpr int kMaxStackDepth = 256;

struct Options {
  bool help = false;
  bool version = false;            // -V
  std::string output;              // -o FILE; empty: stderr
  bool output_per_process = false; // --ff: FILE.PID
  bool follow = false;             // -f
  std::vector<std::string> events; // -e, as given
  EventFilter filter;              // ... parsed
  int stack_depth = 0;             // -k / --stack-depth N; 0: no backtraces
  bool summary = false;            // -c
  bool json = false;               // --json
  bool timing = false;             // -T: seconds each syscall took
  int string_limit = 32;           // -s N
  bool fd_paths = false;           // -y
  int timestamps = 0;              // -t 1, -tt 2, -ttt 3
  bool relative_timestamps = false;  // -r
  int quiet = 0;                   // -q 1, -qq 2
  std::string gdb;                 // --gdb [HOST:]PORT: DUNE_GDB for the program
  std::vector<std::string> command;  // PROG ARGS...
};

// Parses argv; a bad command line is an error message (the status is kExitUsage).
Parsed<Options> parse_options(int argc, const char* const* argv);

// The --help text: every option, the event kinds, an example.
std::string help_text();

}  // namespace dunetrace
