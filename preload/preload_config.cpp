#include "preload_config.h"

#include <cstring>

namespace dune {

namespace {

// "1" and "0" (or unset, or empty); anything else is a warning and the default.
bool read_flag(const char* (*getenv_fn)(const char*), const char* name, PreloadConfig& cfg) {
  const char* v = getenv_fn(name);
  if (!v || !*v || std::strcmp(v, "0") == 0) return false;
  if (std::strcmp(v, "1") == 0) return true;
  cfg.warnings.push_back(std::string(name) + "='" + v + "' is not 0 or 1; using 0");
  return false;
}

}  // namespace

PreloadConfig read_preload_config(const char* (*getenv_fn)(const char*)) {
  PreloadConfig cfg;
  cfg.help = read_flag(getenv_fn, "DUNE_HELP", cfg);
  cfg.disable = read_flag(getenv_fn, "DUNE_DISABLE", cfg);
  cfg.strict = read_flag(getenv_fn, "DUNE_STRICT", cfg);
  return cfg;
}

const char* preload_help() {
  return "libdune_preload.so: runs the program in Dune mode (guest ring 3 of a KVM VM sharing its\n"
         "address space) from before main, its threads and children included. Environment:\n"
         "  DUNE_DISABLE=1        stay native\n"
         "  DUNE_STRICT=1         exit with status 127 (one line says why) instead of running natively\n"
         "                        when Dune mode cannot be entered; under a tracer (gdb, strace),\n"
         "                        which otherwise means a native run, enter Dune mode anyway\n"
         "  DUNE_LOG=LEVEL        error, warn (default), info or debug, on stderr\n"
         "  DUNE_LOG_FILE=PATH    log there instead of stderr\n"
         "  DUNE_STATS=PATH       at the end of each process, a JSON line: pid, VM exits by reason,\n"
         "                        syscalls by name, faults, signals, time in guest and host\n"
         "                        (\"%p\" in PATH becomes the pid: a file per process)\n"
         "  DUNE_MEM_BUDGET=SIZE  cap on the bytes KVM memory slots cover, e.g. 8G (default 64G)\n"
         "  DUNE_BACKEND=NAME     auto (default: the Dune kernel module's /dev/dune when it opens and\n"
         "                        speaks this library's ABI version, else /dev/kvm), kvm or module\n"
         "                        (forced: if unusable, one line says why)\n"
         "  DUNE_MODULE_DEVICE=PATH\n"
         "                        the kernel module's device (default /dev/dune)\n"
         "  DUNE_MODULE_FASTPATH=0|1\n"
         "                        on the module, getpid, getppid, gettid, get[e]uid and get[e]gid\n"
         "                        are answered in the kernel (default 1; off with DUNE_STATS or a\n"
         "                        tracer, which see every syscall)\n"
         "  DUNE_GDB=[HOST:]PORT  a gdb server in the program (or a Unix socket PATH): it waits before\n"
         "                        main for gdb PROGRAM -ex 'target remote HOST:PORT' (HOST: 127.0.0.1\n"
         "                        unless given; PORT 0: one the kernel picks, printed)\n"
         "  DUNE_GDB_EXEC=1       images the program execs wait for gdb as well (default: only the first)\n"
         "  DUNE_TRACE=...        set by dunetrace: which events to send it, and where\n"
         "  DUNE_HELP=1           print this and exit\n"
         "A bad value is one warning naming the variable; its default is used.\n";
}

}  // namespace dune
