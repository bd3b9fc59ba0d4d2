// format_style.h - how dunetrace's options say its lines look (and, for
// times, the TSC's rate measured once at the start).
#pragma once

#include "event_format.h"
#include "options.h"

namespace dunetrace {

FormatStyle format_style(const Options& o);

}  // namespace dunetrace
