// options.h - dunestat's command line, parsed with Boost.program_options.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "rows.h"

namespace dunestat {

inline constexpr int kStatusBadInput = 2;
inline constexpr double kDefaultSeconds = 0.5;

enum class Format { kTable, kJson, kCsv };

struct Options {
  Format format = Format::kTable;
  std::string svg_path;                // empty: no chart
  RowSet rows = every_row();           // the rows to show
  std::optional<uint64_t> iterations;  // repetitions per row and mode; else by time
  double seconds = kDefaultSeconds;    // time per row and mode when iterations is unset
  std::optional<int> cpu;              // pin both worker processes to this CPU
  bool pin = true;                     // without --cpu: to the CPU dunestat starts on
  bool require_dune = false;           // missing Dune mode is a failure
};

struct ParsedOptions {
  enum class Action { kRun, kHelp, kBadInput };
  Action action = Action::kRun;
  Options options;
  std::string text;  // kHelp: the help (or the version); kBadInput: one line saying what is wrong
};

ParsedOptions parse_options(int argc, const char* const* argv);
std::string help_text();

// Words a paragraph into lines of at most `width` columns, each after `indent` spaces.
std::string wrap_text(std::string_view text, size_t indent, size_t width);

}  // namespace dunestat
