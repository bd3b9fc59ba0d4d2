// formats.h - a Report as a table, JSON, CSV or an SVG bar chart.
#pragma once

#include <string>

#include "report.h"

namespace dunestat {

std::string format_table(const Report& r);
std::string format_json(const Report& r);
std::string format_csv(const Report& r);
std::string format_svg(const Report& r);

// Shared by the formats: a figure rounded and grouped by thousands ("67,340"),
// and a ratio with the digits that matter ("1.02", "175.4").
std::string grouped(double v);
std::string ratio_text(double r);
// What the run's repetitions were: "50 per row and mode" or "about 0.5 s per row and mode".
std::string repetitions_text(const Report& r);

}  // namespace dunestat
