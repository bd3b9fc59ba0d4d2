#include "event_filter.h"

#include <dune/trace.h>

#include <optional>
#include <string_view>

#include "names.h"
#include "syscall_classes.h"

namespace dunetrace {

namespace {

constexpr uint32_t kAllExits = ((1u << (kLastExitKind + 1)) - 1) & ~((1u << kFirstExitKind) - 1);

std::optional<uint32_t> kind_from_name(std::string_view n) {
  if (n == "exit") return kKindExit;
  if (n == "syscall" || n == "trace") return kKindSyscall;
  if (n == "fault") return kKindFault;
  if (n == "badstack") return kKindBadstack;
  if (n == "signal") return kKindSignal;
  if (n == "process") return kKindProcess;
  if (n == "all") return kAllKinds;
  return std::nullopt;
}

std::vector<std::string_view> split(std::string_view s) {
  std::vector<std::string_view> out;
  for (;;) {
    size_t c = s.find(',');
    out.push_back(s.substr(0, c));
    if (c == std::string_view::npos) return out;
    s.remove_prefix(c + 1);
  }
}

// The values of one KIND=...: "all" and "none" for everything and nothing,
// anything else through add (which returns why it cannot, or ""); a leading
// '!' inverts the whole list. Returns the first error, or "".
template <typename SetAll, typename Add>
std::string parse_values(const std::string& expr, std::string_view values, bool* invert, SetAll set_all, Add add) {
  *invert = !values.empty() && values[0] == '!';
  if (*invert) values.remove_prefix(1);
  for (std::string_view v : split(values)) {
    if (v.empty()) return "empty value in -e " + expr;
    if (v == "all") {
      set_all(true);
    } else if (v == "none") {
      set_all(false);
    } else if (std::string why = add(v); !why.empty()) {
      return why;
    }
  }
  return {};
}

}  // namespace

EventFilter::EventFilter() { syscalls.set(); }

uint32_t EventFilter::dune_mask() const {
  uint32_t m = 0;
  if (kinds & kKindExit) m |= DUNE_EV_VMEXIT;
  if (kinds & kKindSyscall) m |= DUNE_EV_SYSCALL;
  if (kinds & kKindFault) m |= DUNE_EV_FAULT | DUNE_EV_HOSTFAULT;
  if (kinds & kKindBadstack) m |= DUNE_EV_BADSTACK;
  if (kinds & kKindSignal) m |= DUNE_EV_SIGNAL;
  if (kinds & kKindProcess) m |= DUNE_EV_THREAD;
  return m;
}

Parsed<EventFilter> parse_event_filter(const std::vector<std::string>& exprs, bool summary) {
  EventFilter f;
  if (exprs.empty()) {
    f.exits = summary ? kAllExits : kAllExits & ~(1u << DUNE_EXIT_SYSCALL);
    return {f};
  }
  f.kinds = 0;
  f.exits = 0;
  f.syscalls.reset();
  f.other_syscalls = false;
  f.signals = 0;
  // Kinds named without values take all of them.
  bool any_exit_values = false, any_syscall_values = false, any_signal_values = false;
  bool all_exits = false, all_syscalls = false, all_signals = false;
  uint8_t status = kStatusAll;
  bool have_status = false;
  for (const std::string& e : exprs) {
    std::string_view expr = e;
    size_t eq = expr.find('=');
    if (eq == std::string_view::npos) {
      if (expr.empty()) return Parsed<EventFilter>::fail("empty event list in -e");
      for (std::string_view name : split(expr)) {
        auto k = kind_from_name(name);
        if (!k) return Parsed<EventFilter>::fail("invalid event kind '" + std::string(name) +
                                                  "' (exit, syscall, fault, badstack, signal, process, all)");
        f.kinds |= *k;
        if (*k & kKindExit) all_exits = true;
        if (*k & kKindSyscall) all_syscalls = true;
        if (*k & kKindSignal) all_signals = true;
      }
      continue;
    }
    std::string_view kind = expr.substr(0, eq), values = expr.substr(eq + 1);
    if (kind == "status") {
      uint8_t set = 0;
      bool invert = false;
      std::string err = parse_values(e, values, &invert, [&](bool on) { set = on ? kStatusAll : 0; },
                                     [&](std::string_view v) -> std::string {
                                       if (v == "successful") set |= kStatusSuccessful;
                                       else if (v == "failed") set |= kStatusFailed;
                                       else if (v == "unfinished") set |= kStatusUnfinished;
                                       // Nothing dunetrace shows is either: accepted as strace does.
                                       else if (v != "unavailable" && v != "detached")
                                         return "invalid status '" + std::string(v) +
                                                "' (successful, failed, unfinished, unavailable, detached)";
                                       return {};
                                     });
      if (!err.empty()) return Parsed<EventFilter>::fail(err);
      if (values.empty()) return Parsed<EventFilter>::fail("no values after '=' in -e " + e);
      status = invert ? static_cast<uint8_t>(kStatusAll & ~set) : set;
      have_status = true;
      continue;
    }
    auto k = kind_from_name(kind);
    if (!k || *k == kAllKinds)
      return Parsed<EventFilter>::fail("invalid event kind '" + std::string(kind) + "' in -e " + e);
    if (values.empty()) return Parsed<EventFilter>::fail("no values after '=' in -e " + e);
    f.kinds |= *k;
    bool invert = false;
    std::string err;
    if (*k == kKindExit) {
      uint32_t set = 0;
      err = parse_values(e, values, &invert, [&](bool on) { set = on ? kAllExits : 0; },
                         [&](std::string_view v) -> std::string {
                           auto r = exit_reason_from_name(v);
                           if (!r)
                             return "invalid exit reason '" + std::string(v) +
                                    "' (syscall, exception, trap_return, hypercall, mmio, memory_fault, "
                                    "interrupted, other)";
                           set |= 1u << *r;
                           return {};
                         });
      if (invert) set = kAllExits & ~set;
      f.exits |= set;
      any_exit_values = true;
    } else if (*k == kKindSyscall) {
      std::bitset<1024> set;
      bool other = false;
      err = parse_values(e, values, &invert, [&](bool on) { on ? set.set() : set.reset(); other = on; },
                         [&](std::string_view v) -> std::string {
                           if (!v.empty() && v[0] == '%') {
                             auto cls = syscall_class(v.substr(1));
                             if (!cls) return "invalid syscall class '" + std::string(v) + "' (" + syscall_class_names() + ")";
                             set |= *cls;
                             return {};
                           }
                           auto nr = syscall_from_name(v);
                           if (!nr || *nr >= 1024) return "invalid syscall name '" + std::string(v) + "'";
                           set.set(static_cast<size_t>(*nr));
                           return {};
                         });
      if (invert) {
        set.flip();
        other = !other;
      }
      f.syscalls |= set;
      f.other_syscalls = f.other_syscalls || other;
      any_syscall_values = true;
    } else if (*k == kKindSignal) {
      uint64_t set = 0;
      err = parse_values(e, values, &invert, [&](bool on) { set = on ? ~0ull : 0; },
                         [&](std::string_view v) -> std::string {
                           auto s = signal_from_name(v);
                           if (!s) return "invalid signal '" + std::string(v) + "'";
                           set |= 1ull << (*s - 1);
                           return {};
                         });
      if (invert) set = ~set;
      f.signals |= set;
      any_signal_values = true;
    } else {
      return Parsed<EventFilter>::fail("'" + std::string(kind) + "' takes no values: -e " + e);
    }
    if (!err.empty()) return Parsed<EventFilter>::fail(err);
  }
  if (all_exits || !any_exit_values) f.exits = kAllExits;
  if (all_syscalls || !any_syscall_values) {
    f.syscalls.set();
    f.other_syscalls = true;
  }
  if (all_signals || !any_signal_values) f.signals = ~0ull;
  f.status = status;
  // Only a status: every kind as without -e, syscalls shown by it.
  if (have_status && f.kinds == 0) {
    f.kinds = kAllKinds;
    f.exits = kAllExits & ~(1u << DUNE_EXIT_SYSCALL);
  }
  return {f};
}

}  // namespace dunetrace
