#include "worker_report.h"

#include <fmt/format.h>

#include <cstdlib>
#include <vector>

namespace dunestat {
namespace {

std::string one_line(std::string_view why) {
  std::string s;
  for (char c : why) {
    if (c == '\n' || c == '\r') {
      if (!s.empty() && s.back() != ' ') s += "; ";
    } else {
      s += c;
    }
  }
  while (!s.empty() && (s.back() == ' ' || s.back() == ';')) s.pop_back();
  return s.empty() ? "no reason given" : s;
}

// The next space-separated word of `rest`, removed from it.
std::string_view take_word(std::string_view& rest) {
  size_t start = rest.find_first_not_of(' ');
  if (start == std::string_view::npos) {
    rest = {};
    return {};
  }
  rest.remove_prefix(start);
  size_t end = rest.find(' ');
  std::string_view w = rest.substr(0, end);
  rest.remove_prefix(end == std::string_view::npos ? rest.size() : end + 1);
  return w;
}

bool parse_number(std::string_view w, double* out) {
  if (w.empty()) return false;
  std::string s(w);
  char* end = nullptr;
  *out = std::strtod(s.c_str(), &end);
  return end && *end == '\0';
}

bool parse_summary(std::string_view rest, Summary* s) {
  double v[5];
  for (double& x : v)
    if (!parse_number(take_word(rest), &x)) return false;
  if (!rest.empty() || v[0] < 1) return false;
  *s = {static_cast<uint64_t>(v[0]), v[1], v[2], v[3], v[4]};
  return true;
}

}  // namespace

const char* mode_name(Mode m) { return m == Mode::kNative ? "native" : "dune"; }

const RowOutcome* WorkerReport::row(RowId id) const {
  const auto& r = rows[row_index(id)];
  return r ? &*r : nullptr;
}

std::string summary_line(RowId id, const Summary& s) {
  return fmt::format("row {} {} {} {} {} {}\n", row_info(id).key, s.reps, s.min, s.median, s.p90, s.max);
}

std::string missing_line(RowId id, bool failed, std::string_view why) {
  return fmt::format("missing {} {} {}\n", row_info(id).key, failed ? 1 : 0, one_line(why));
}

std::string unavailable_line(std::string_view why) { return fmt::format("unavailable {}\n", one_line(why)); }

std::string entered_line() { return "entered\n"; }

std::string end_line() { return "end\n"; }

WorkerReport decode_worker_report(Mode mode, std::string_view text) {
  WorkerReport r;
  r.mode = mode;
  std::vector<std::string> bad;
  while (!text.empty()) {
    size_t nl = text.find('\n');
    std::string_view line = text.substr(0, nl);
    text.remove_prefix(nl == std::string_view::npos ? text.size() : nl + 1);
    if (nl == std::string_view::npos) {
      bad.emplace_back(line);  // cut off mid-line
      break;
    }
    std::string_view rest = line;
    std::string_view kind = take_word(rest);
    bool ok = false;
    if (kind == "end" && rest.empty()) {
      r.complete = ok = true;
    } else if (kind == "entered" && rest.empty()) {
      r.entered = ok = true;
    } else if (kind == "unavailable") {
      r.unavailable = std::string(rest);
      ok = true;
    } else if (kind == "row" || kind == "missing") {
      std::optional<RowId> id = find_row(take_word(rest));
      if (id && kind == "row") {
        Summary s;
        if ((ok = parse_summary(rest, &s))) r.rows[row_index(*id)] = RowOutcome{s, {}, false};
      } else if (id) {
        std::string_view flag = take_word(rest);
        if ((ok = (flag == "0" || flag == "1")))
          r.rows[row_index(*id)] = RowOutcome{std::nullopt, std::string(rest), flag == "1"};
      }
    }
    if (!ok) bad.emplace_back(line);
  }
  if (!bad.empty())
    r.trouble = fmt::format("the {} worker wrote {} line(s) that cannot be read, the first: '{}'",
                            mode_name(mode), bad.size(), bad.front());
  return r;
}

}  // namespace dunestat
