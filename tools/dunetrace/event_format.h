// event_format.h - one traced event as a line of text or JSON (and its backtrace).
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "locator.h"
#include "trace_protocol.h"

namespace dunetrace {

// An event with what dunetrace found out about it.
struct EventData {
  const dune::trace_wire::TraceRecord* rec = nullptr;
  std::string_view captures;         // a syscall's: the memory its line shows (syscall_capture.h)
  const Location* at = nullptr;      // the guest rip, where the event has one worth naming
  std::vector<Location> backtrace;   // -k
  std::string mapping_name;          // badstack: the path of the mapping rsp fell in
  const Location* handler = nullptr; // signal: the handler it was delivered to
  bool exec = false;                 // process start: a new image of a process seen before
  std::string exe;                   // process start: its program, "" if unknown
};

struct FormatStyle {
  bool json = false;
  bool follow = false;  // label every line with pid and tid
  bool timing = false;  // -T
  double tsc_hz = 0;    // cycles -> seconds (0: unknown)
  int string_limit = 32;  // -s
  bool fd_paths = false;  // -y
  int timestamps = 0;     // -t 1, -tt 2, -ttt 3: wall-clock time before each line
  bool relative = false;  // -r: time since the previous line
  // The clocks at one instant: TSC -> wall-clock time.
  uint64_t anchor_tsc = 0;
  int64_t anchor_realtime_ns = 0;
};

// The call an event's record and captured memory describe (DUNE_EV_SYSCALL, DUNE_EV_EXEC).
namespace decode { struct SyscallCall; }
void syscall_call_of(const dune::trace_wire::TraceRecord& r, std::string_view captures, decode::SyscallCall* out);

class EventFormatter {
 public:
  explicit EventFormatter(FormatStyle s) : style_(s) {}
  // The -t/-tt/-ttt/-r prefix for an event at tsc ("" without them).
  std::string time_prefix(uint64_t tsc) const;
  // The event's line(s), each ending in '\n'.
  std::string format(const EventData& e) const;
  // The end of a process known only from its wait status.
  std::string format_wait_status(int pid, int status) const;

 private:
  FormatStyle style_;
  mutable uint64_t last_tsc_ = 0;  // -r
};

// "SI_USER", "SEGV_ACCERR", ... for a signal's si_code (the number otherwise).
std::string si_code_name(int signo, int code);

}  // namespace dunetrace
