// event_filter.h - which events dunetrace shows: the -e expressions.
//
//   -e KIND[,KIND...]       kinds: exit, syscall, fault, badstack, signal, process, all
//   -e KIND=VALUE[,VALUE]   exit=REASONS, syscall=NAMES or %CLASSES (trace= too), signal=SIGNALS;
//                           a leading '!' takes every value but those
//   -e status=successful,failed,unfinished   which syscall results (strace's)
// Several -e add up. Without any: every kind, and every exit but the syscall
// ones (each syscall is a line of its own already); with -c every exit too.
#pragma once

#include <bitset>
#include <cstdint>
#include <string>
#include <vector>

#include "parsed.h"

namespace dunetrace {

enum EventKind : uint32_t {
  kKindExit = 1u << 0,
  kKindSyscall = 1u << 1,
  kKindFault = 1u << 2,
  kKindBadstack = 1u << 3,
  kKindSignal = 1u << 4,
  kKindProcess = 1u << 5,
  kAllKinds = (1u << 6) - 1,
};

// -e status=: which syscall results are shown.
enum SyscallStatus : uint8_t {
  kStatusSuccessful = 1,
  kStatusFailed = 2,
  kStatusUnfinished = 4,  // no result: exit, exit_group
  kStatusAll = 7,
};

struct EventFilter {
  uint32_t kinds = kAllKinds;
  uint32_t exits = 0;                  // bit k: dune_exit_kind k
  std::bitset<1024> syscalls;          // by number
  bool other_syscalls = true;          // numbers past the table
  uint64_t signals = ~0ull;            // bit signo-1
  uint8_t status = kStatusAll;         // -e status=, -z, -Z

  EventFilter();
  bool shows(EventKind k) const { return kinds & k; }
  // The DUNE_EV_* mask the library must emit for these kinds.
  uint32_t dune_mask() const;
};

// exprs: the -e arguments in order; summary: -c (every exit counts then).
Parsed<EventFilter> parse_event_filter(const std::vector<std::string>& exprs, bool summary);

}  // namespace dunetrace
