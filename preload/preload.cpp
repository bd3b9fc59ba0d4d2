// preload.cpp - LD_PRELOAD=libdune_preload.so: the program runs in Dune mode from
// before main. Children inherit LD_PRELOAD, so what they exec enters again.
#include <dune/dune.h>

#include <cstdlib>
#include <cstring>

#include "base/log.h"
#include "base/raw_syscall.h"
#include "preload_config.h"
#include "trace_listener.h"
#include "runtime/tracer.h"

namespace {

const char* env(const char* name) { return std::getenv(name); }

// Runs before the program's own constructors (they come after those of the
// libraries it was preloaded with) and before main.
__attribute__((constructor(101))) void dune_preload_start() {
  using namespace dune;
  log::configure_from_env();
  PreloadConfig cfg = read_preload_config(env);
  for (const std::string& w : cfg.warnings) log::warn("{}", w);
  if (cfg.help) {
    const char* text = preload_help();
    sys::write_all(2, text, std::strlen(text));
    sys::syscall6(SYS_exit_group, 0);
  }
  if (cfg.disable) return;
  // Under gdb or strace (started with the shim preloaded): the tracer would
  // see the library, not the program; natively it sees the program.
  if (Tracer tracer = current_tracer(); tracer.pid > 0 && !cfg.strict) {
    log::warn("traced by {} (pid {}): running natively, where its breakpoints and stepping work "
              "(DUNE_STRICT=1: Dune mode anyway; DUNE_GDB=PORT: gdb in Dune mode)",
              tracer.who(), tracer.pid);
    return;
  }
  // Run by dunetrace: its listener goes in before the VM exists.
  if (const char* trace = env("DUNE_TRACE"); trace && *trace) start_tracing(trace);
  int r = dune_init_and_enter();
  if (r != 0 && cfg.strict) {
    // The library already said why.
    log::error("DUNE_STRICT=1: not running natively; exiting with status 127");
    sys::syscall6(SYS_exit_group, 127);
  }
}

}  // namespace
