#include "runtime/syscall_fastpath.h"

#include <cstdlib>
#include <cstring>

#include <dune/trace.h>

#include "base/log.h"
#include "kvm/module_abi.h"
#include "monitor/ports.h"
#include "runtime/runtime.h"
#include "runtime/stats_report.h"
#include "trace/events.h"

namespace dune {

std::optional<bool> parse_fastpath_knob(const char* value) {
  if (!std::strcmp(value, "1")) return true;
  if (!std::strcmp(value, "0")) return false;
  return std::nullopt;
}

bool syscall_fastpath_wanted() {
  bool on = true;
  if (const char* v = std::getenv("DUNE_MODULE_FASTPATH"); v && *v) {
    auto parsed = parse_fastpath_knob(v);
    if (parsed)
      on = *parsed;
    else
      log::warn("DUNE_MODULE_FASTPATH='{}' is not 0 or 1; using 1", v);
  }
  return on && !stats_report_enabled();
}

void apply_syscall_fastpath(Runtime& rt) {
  if (rt.vm.backend() != Backend::kModule) return;
  bool on = rt.fastpath_on && !rt.fastpath_blocked && !trace::wanted(DUNE_EV_SYSCALL) &&
            !trace::wanted(DUNE_EV_VMEXIT);
  Status s = rt.vm.set_syscall_fastpath(on ? DUNE_PORT_SYSCALL : 0, on ? DUNE_FAST_ALL : 0);
  if (!s) log::debug("the module's syscall fast path is off: {}", log::errno_name(s.error()));
}

void block_syscall_fastpath(Runtime& rt) {
  if (rt.fastpath_blocked) return;
  rt.fastpath_blocked = true;
  if (rt.vm.backend() == Backend::kModule) (void)rt.vm.set_syscall_fastpath(0, 0);
}

}  // namespace dune
