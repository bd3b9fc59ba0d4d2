// dunestat: what Dune mode costs and saves, measured natively and in Dune mode
// in one run and printed side by side (see --help and docs/dunestat.md).
#include <fmt/format.h>
#include <sched.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <memory>

#include "bench_util.h"
#include "budget.h"
#include "formats.h"
#include "machine.h"
#include "options.h"
#include "report.h"
#include "worker.h"

using namespace dunestat;

namespace {

struct FileCloser {
  void operator()(FILE* f) const { std::fclose(f); }
};
using File = std::unique_ptr<FILE, FileCloser>;

// Empty if this process may run on `cpu`, else why not.
std::string cpu_problem(int cpu) {
  cpu_set_t allowed;
  if (sched_getaffinity(0, sizeof allowed, &allowed) != 0) return fmt::format("sched_getaffinity: {}", std::strerror(errno));
  if (cpu >= CPU_SETSIZE || !CPU_ISSET(cpu, &allowed)) {
    std::string list;
    for (int i = 0; i < CPU_SETSIZE; ++i)
      if (CPU_ISSET(i, &allowed)) list += list.empty() ? std::to_string(i) : "," + std::to_string(i);
    return fmt::format("--cpu {}: this process may not run there (it may run on CPU {})", cpu, list);
  }
  return {};
}

bool write_whole(FILE* f, const std::string& text) {
  return std::fwrite(text.data(), 1, text.size(), f) == text.size() && std::fflush(f) == 0;
}

}  // namespace

int main(int argc, char** argv) {
  ParsedOptions parsed = parse_options(argc, argv);
  if (parsed.action == ParsedOptions::Action::kHelp) {
    std::fputs(parsed.text.c_str(), stdout);
    return 0;
  }
  if (parsed.action == ParsedOptions::Action::kBadInput) {
    fmt::print(stderr, "{}\n", parsed.text);
    return kStatusBadInput;
  }
  Options& opt = parsed.options;

  // Everything that can be wrong with the input is found before measuring.
  File svg;
  if (!opt.svg_path.empty()) {
    svg.reset(std::fopen(opt.svg_path.c_str(), "we"));
    if (!svg) {
      fmt::print(stderr, "dunestat: cannot write the chart to '{}': {}\n", opt.svg_path, std::strerror(errno));
      return kStatusBadInput;
    }
  }
  if (opt.cpu) {
    if (std::string p = cpu_problem(*opt.cpu); !p.empty()) {
      fmt::print(stderr, "dunestat: {}\n", p);
      return kStatusBadInput;
    }
  }

  // Pinned, the helper that measures the VM exit floor and the process in Dune
  // mode share one CPU, and new threads start on it: steadier figures.
  if (opt.pin && !opt.cpu) {
    int here = sched_getcpu();
    if (here >= 0) opt.cpu = here;
  }
  Machine machine = probe_machine();
  WorkerPlan plan{rows_to_measure(opt.rows), Budget{opt.iterations, opt.seconds}, opt.cpu};
  if (isatty(2))
    fmt::print(stderr, "dunestat: measuring {} row(s) natively, then in Dune mode ({})...\n", opt.rows.count(),
               opt.iterations ? fmt::format("{} repetitions each", *opt.iterations)
                              : fmt::format("{} s each", opt.seconds));
  uint64_t tsc0 = bench_tsc();
  double t0 = monotonic_seconds();
  WorkerReport native = run_worker(Mode::kNative, plan);
  WorkerReport dune = run_worker(Mode::kDune, plan);
  double elapsed = monotonic_seconds() - t0;
  if (elapsed > 0.05) machine.tsc_hz = static_cast<double>(bench_tsc() - tsc0) / elapsed;

  Report report = build_report(machine, opt, native, dune);
  std::string text = opt.format == Format::kJson  ? format_json(report)
                     : opt.format == Format::kCsv ? format_csv(report)
                                                  : format_table(report);
  std::fputs(text.c_str(), stdout);
  std::fflush(stdout);

  int status = 0;
  if (svg) {
    bool ok = write_whole(svg.get(), format_svg(report));
    ok = std::fclose(svg.release()) == 0 && ok;
    if (!ok) {
      fmt::print(stderr, "dunestat: writing the chart to '{}' failed: {}\n", opt.svg_path, std::strerror(errno));
      status = 1;
    }
  }
  for (const std::string& p : report.problems) fmt::print(stderr, "dunestat: {}\n", p);
  if (!report.problems.empty()) status = 1;
  if (opt.require_dune && !report.dune_available) {
    fmt::print(stderr, "dunestat: Dune mode is required (--require-dune) but unavailable: {}\n", report.dune_missing);
    status = 1;
  }
  return status;
}
