// format_csv.cpp - one line per row, mode and unit (--csv), for spreadsheets.
#include <fmt/format.h>

#include "formats.h"

namespace dunestat {
namespace {

std::string field(std::string_view s) {
  if (s.find_first_of(",\"\n") == std::string_view::npos) return std::string(s);
  std::string out = "\"";
  for (char c : s) out += c == '"' ? std::string("\"\"") : std::string(1, c);
  return out + "\"";
}

std::string optional_number(std::optional<double> v) { return v ? fmt::format("{}", *v) : ""; }

std::string line(const RowReport& r, std::string_view unit, const char* mode, const Column& c,
                 std::optional<double> ratio, std::optional<double> floor_ratio) {
  std::string s = fmt::format("{},{},{},{},", field(r.info->key), field(r.info->title), field(unit), mode);
  if (c.figures) {
    const Summary& f = *c.figures;
    s += fmt::format("{},{},{},{},{}", f.reps, f.min, f.median, f.p90, f.max);
  } else {
    s += ",,,,";
  }
  return s + fmt::format(",{},{},{}\n", optional_number(ratio), optional_number(floor_ratio),
                         c.figures ? "" : field(c.missing));
}

}  // namespace

std::string format_csv(const Report& r) {
  std::string s = "key,title,unit,mode,reps,min,median,p90,max,dune_to_native,dune_to_floor,missing\n";
  for (const RowReport& row : r.rows) {
    s += line(row, row.info->unit, "native", row.native, std::nullopt, std::nullopt);
    s += line(row, row.info->unit, "dune", row.dune, row.dune_to_native, row.dune_to_floor);
    if (row.has_per_fault()) {
      s += line(row, "cycles/fault", "native", row.per_fault(row.native), std::nullopt, std::nullopt);
      s += line(row, "cycles/fault", "dune", row.per_fault(row.dune), row.dune_to_native, std::nullopt);
    }
  }
  return s;
}

}  // namespace dunestat
