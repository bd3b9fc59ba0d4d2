// event_format.h - one traced event as a line of text or JSON (and its backtrace).
#pragma once

#include <string>
#include <vector>

#include "locator.h"
#include "trace_protocol.h"

namespace dunetrace {

// An event with what dunetrace found out about it.
struct EventData {
  const dune::trace_wire::TraceRecord* rec = nullptr;
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
  double tsc_hz = 0;    // with timing: cycles -> seconds (0: unknown)
};

class EventFormatter {
 public:
  explicit EventFormatter(FormatStyle s) : style_(s) {}
  // The event's line(s), each ending in '\n'.
  std::string format(const EventData& e) const;
  // The end of a process known only from its wait status.
  std::string format_wait_status(int pid, int status) const;

 private:
  FormatStyle style_;
};

// "SI_USER", "SEGV_ACCERR", ... for a signal's si_code (the number otherwise).
std::string si_code_name(int signo, int code);

}  // namespace dunetrace
