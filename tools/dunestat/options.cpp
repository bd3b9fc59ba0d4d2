#include "options.h"

#include <fmt/format.h>

#include <boost/program_options.hpp>
#include <cmath>
#include <sstream>

namespace po = boost::program_options;

namespace dunestat {
namespace {

constexpr double kMaxSeconds = 600;

po::options_description describe_options() {
  po::options_description d("Options", 100, 50);
  d.add_options()
      ("help,h", "show this help: options, and how each row is measured")
      ("version", "print the version and exit")
      ("json", "print JSON instead of the table")
      ("csv", "print CSV (one line per row and mode) instead of the table")
      ("svg", po::value<std::string>()->value_name("FILE"),
       "also write a bar chart of the medians to FILE (SVG, log scale)")
      ("only", po::value<std::string>()->value_name("ROW,..."),
       "measure and show only these rows (keys below)")
      ("iterations", po::value<long long>()->value_name("N"),
       "exactly N repetitions per row and mode, instead of a time budget")
      ("seconds", po::value<double>()->value_name("S"),
       "time spent on each row in each mode (default 0.5)")
      ("cpu", po::value<int>()->value_name("N"),
       "pin both measuring processes to CPU N (default: the CPU dunestat starts on)")
      ("no-pin", "do not pin them: the scheduler may move them (figures vary more on a busy machine)")
      ("require-dune", "exit with status 1 if Dune mode cannot be entered");
  return d;
}

ParsedOptions bad(std::string message) {
  ParsedOptions p;
  p.action = ParsedOptions::Action::kBadInput;
  p.text = fmt::format("dunestat: {} (see --help)", message);
  return p;
}

// "a,b" -> the rows, or the first key that names none.
std::optional<std::string> parse_rows(std::string_view list, RowSet* out) {
  RowSet set;
  while (true) {
    size_t comma = list.find(',');
    std::string_view key = list.substr(0, comma);
    std::optional<RowId> id = find_row(key);
    if (!id) return std::string(key);
    set.set(row_index(*id));
    if (comma == std::string_view::npos) break;
    list.remove_prefix(comma + 1);
  }
  *out = set;
  return std::nullopt;
}

std::string row_keys() {
  std::string s;
  for (const RowInfo& r : all_rows()) s += s.empty() ? r.key : fmt::format(", {}", r.key);
  return s;
}

}  // namespace

std::string wrap_text(std::string_view text, size_t indent, size_t width) {
  std::string out, line;
  auto flush = [&] {
    out += std::string(indent, ' ') + line + "\n";
    line.clear();
  };
  while (!text.empty()) {
    size_t sp = text.find(' ');
    std::string_view word = text.substr(0, sp);
    text.remove_prefix(sp == std::string_view::npos ? text.size() : sp + 1);
    if (word.empty()) continue;
    if (!line.empty() && indent + line.size() + 1 + word.size() > width) flush();
    line += line.empty() ? std::string(word) : " " + std::string(word);
  }
  if (!line.empty()) flush();
  return out;
}

std::string help_text() {
  std::ostringstream s;
  s << "Usage: dunestat [options]\n\n"
       "Measures each operation below natively and in Dune mode, in one run, and prints them side by\n"
       "side: repetitions, min, median, p90 and max in TSC cycles with the TSC overhead subtracted,\n"
       "and the Dune/native ratio of the medians. Each mode runs in a worker process of its own (a\n"
       "process in Dune mode cannot leave it); the Dune one calls dune_init_and_enter(). Without\n"
       "--iterations each row takes about --seconds in each mode.\n\n";
  s << describe_options() << "\nRows (keys for --only):\n";
  for (const RowInfo& r : all_rows()) {
    s << fmt::format("  {:<13} {} ({}{})\n", r.key, r.title, r.unit,
                     r.faults_per_rep > 1 ? ", and cycles/fault" : "");
    s << wrap_text(r.method, 16, 100);
  }
  s << "\nExit status: 0 when every row was measured (also when Dune mode cannot be entered: the\n"
       "report says why and shows the native column); 1 when a measurement failed, or Dune mode is\n"
       "missing under --require-dune; 2 for bad input.\n";
  return s.str();
}

ParsedOptions parse_options(int argc, const char* const* argv) {
  po::variables_map vm;
  try {
    po::positional_options_description none;  // every word must belong to an option
    po::store(po::command_line_parser(argc, argv).options(describe_options()).positional(none).run(), vm);
    po::notify(vm);
  } catch (const po::too_many_positional_options_error&) {
    return bad("takes only options; a word that is not an option's value was given");
  } catch (const po::error& e) {
    return bad(e.what());
  }
  ParsedOptions p;
  if (vm.count("help")) {
    p.action = ParsedOptions::Action::kHelp;
    p.text = help_text();
    return p;
  }
  if (vm.count("version")) {
    p.action = ParsedOptions::Action::kHelp;
    p.text = fmt::format("dunestat (Dune on KVM) {}\n", DUNE_PROJECT_VERSION);
    return p;
  }
  Options& o = p.options;
  if (vm.count("json") && vm.count("csv")) return bad("--json and --csv exclude each other");
  if (vm.count("json")) o.format = Format::kJson;
  if (vm.count("csv")) o.format = Format::kCsv;
  if (vm.count("svg")) {
    o.svg_path = vm["svg"].as<std::string>();
    if (o.svg_path.empty()) return bad("--svg needs a file name");
  }
  if (vm.count("only")) {
    if (auto unknown = parse_rows(vm["only"].as<std::string>(), &o.rows))
      return bad(fmt::format("--only: no row is called '{}'; the rows are {}", *unknown, row_keys()));
  }
  if (vm.count("iterations") && vm.count("seconds")) return bad("--iterations and --seconds exclude each other");
  if (vm.count("iterations")) {
    long long n = vm["iterations"].as<long long>();
    if (n < 1) return bad(fmt::format("--iterations must be at least 1, not {}", n));
    o.iterations = static_cast<uint64_t>(n);
  }
  if (vm.count("seconds")) {
    o.seconds = vm["seconds"].as<double>();
    if (!std::isfinite(o.seconds) || o.seconds <= 0 || o.seconds > kMaxSeconds)
      return bad(fmt::format("--seconds must be more than 0 and at most {}, not {}", kMaxSeconds, o.seconds));
  }
  if (vm.count("cpu")) {
    int cpu = vm["cpu"].as<int>();
    if (cpu < 0) return bad(fmt::format("--cpu must be a CPU number (0 or more), not {}", cpu));
    o.cpu = cpu;
  }
  if (vm.count("no-pin")) {
    if (o.cpu) return bad("--cpu and --no-pin exclude each other");
    o.pin = false;
  }
  o.require_dune = vm.count("require-dune") > 0;
  return p;
}

}  // namespace dunestat
