// trace_config.h - what dunetrace asks the shim to trace: the DUNE_TRACE variable.
//
// dunetrace writes it, the shim of every traced process reads it (no
// allocation: it is read in the shim's constructor and kept in static storage).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "trace_protocol.h"

namespace dune {

struct TraceConfig {
  uint32_t kinds = 0;                  // DUNE_EV_* the listener asks for
  uint32_t exits = ~0u;                // dune_exit_kind bits that pass
  uint64_t syscalls[trace_wire::kMaxSyscall / 64];  // syscall numbers that pass
  bool other_syscalls = true;          // numbers out of that range pass
  uint64_t signals = ~0ull;            // bit signo-1 passes
  int stack_depth = 0;                 // > 0: backtraces (events wait for dunetrace)
  bool follow = false;                 // every process and thread, not only the first
  bool summary = false;                // -c: add to the summary table, send nothing
  int root = 0;                        // the first process (and thread) when not following
  int string_limit = 32;               // -s: bytes of a string a syscall line shows (0: copy none)
  bool fd_paths = false;               // -y: each descriptor's file travels with the syscall
  char dir[256] = {};                  // dunetrace's private directory: socket and summary

  // constexpr: the shim's copy is initialized before any constructor runs.
  constexpr TraceConfig() {
    for (auto& w : syscalls) w = ~0ull;
  }
  bool syscall_passes(long nr) const;
  void set_syscall(long nr, bool on);
  bool signal_passes(int signo) const { return signo >= 1 && signo <= 64 && (signals >> (signo - 1)) & 1; }
  bool exit_passes(uint32_t kind) const { return kind < 32 && ((exits >> kind) & 1); }
};

// The socket and summary file in dir.
constexpr const char* kTraceSocketName = "events";
constexpr const char* kTraceSummaryName = "summary";

// "kinds=7f;exits=..;sys=..;sysother=0|1;sig=..;stack=N;follow=0|1;summary=0|1;root=PID;strs=N;fdpaths=0|1;dir=PATH"
// (dir last: it may hold any character).
std::string encode_trace_config(const TraceConfig& c);
// False if text is not one (the shim then does not trace).
bool decode_trace_config(std::string_view text, TraceConfig* out);

}  // namespace dune
