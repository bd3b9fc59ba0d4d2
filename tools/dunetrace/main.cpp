// dunetrace: runs a program in Dune mode and logs what happens at the VM boundary.
#include <unistd.h>

#include <climits>
#include <cstdlib>
#include <cstdio>
#include <string>

#include "options.h"
#include "program_path.h"
#include "session.h"
#include "trace_output.h"

namespace {

int usage_error(const std::string& msg) {
  std::fprintf(stderr, "dunetrace: %s\nTry 'dunetrace --help' for more information.\n", msg.c_str());
  return dunetrace::kExitUsage;
}

std::string self_path(const char* argv0) {
  char buf[PATH_MAX];
  ssize_t n = readlink("/proc/self/exe", buf, sizeof buf - 1);
  if (n > 0) return std::string(buf, static_cast<size_t>(n));
  return argv0;
}

}  // namespace

int main(int argc, char** argv) {
  using namespace dunetrace;
  auto opts = parse_options(argc, argv);
  if (!opts.ok()) return usage_error(opts.error);
  if (opts.value.help) {
    std::fputs(help_text().c_str(), stdout);
    return 0;
  }
  if (opts.value.version) {
    std::printf("dunetrace (Dune on KVM) %s\n", DUNE_PROJECT_VERSION);
    return 0;
  }
  auto program = find_program(opts.value.command[0]);
  if (!program.ok()) {
    std::fprintf(stderr, "dunetrace: %s\n", program.error.c_str());
    return kExitCannotRun;
  }
  auto shim = find_shim(self_path(argv[0]));
  if (!shim.ok()) {
    std::fprintf(stderr, "dunetrace: %s\n", shim.error.c_str());
    return kExitCannotRun;
  }
  // The library's gdb server in the program (its first image: DUNE_GDB goes once it is up).
  if (!opts.value.gdb.empty()) setenv("DUNE_GDB", opts.value.gdb.c_str(), 1);
  auto out = TraceOutput::open(opts.value.output, opts.value.output_per_process);
  if (!out.ok()) return usage_error(out.error);
  return run_session(opts.value, program.value, shim.value, *out.value);
}
