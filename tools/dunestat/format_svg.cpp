// format_svg.cpp - a bar chart of the medians (--svg): one pair of horizontal
// bars per row, native above Dune, on a logarithmic axis of cycles.
#include <fmt/format.h>

#include <cmath>

#include "formats.h"

namespace dunestat {
namespace {

constexpr double kWidth = 980;
constexpr double kPlotLeft = 250, kPlotRight = 820;
constexpr double kTop = 114, kRowHeight = 48, kBarHeight = 15;
constexpr const char* kNativeColour = "#4e79a7";
constexpr const char* kDuneColour = "#e15759";

std::string escaped(std::string_view s) {
  std::string out;
  for (char c : s) {
    switch (c) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&quot;"; break;
      default: out += c;
    }
  }
  return out;
}

// "1", "10", "100", "1k" ... for the decade 10^e.
std::string decade_label(int e) {
  static constexpr const char* kSuffix[] = {"", "k", "M", "G", "T"};
  if (e < 0) return fmt::format("1e{}", e);
  int group = std::min(e / 3, 4);
  return fmt::format("{}{}", static_cast<long long>(std::pow(10, e - 3 * group)), kSuffix[group]);
}

std::optional<double> median_of(const Column& c) {
  if (c.figures && c.figures->median > 0) return c.figures->median;
  return std::nullopt;
}

struct Axis {
  int low = 0, high = 1;  // decades
  double x(double v) const {
    double f = (std::log10(v) - low) / (high - low);
    return kPlotLeft + std::clamp(f, 0.0, 1.0) * (kPlotRight - kPlotLeft);
  }
};

Axis axis_for(const Report& r) {
  double lo = INFINITY, hi = 0;
  for (const RowReport& row : r.rows)
    for (const Column* c : {&row.native, &row.dune})
      if (auto m = median_of(*c)) lo = std::min(lo, *m), hi = std::max(hi, *m);
  Axis a;
  if (hi == 0) return a;
  a.low = static_cast<int>(std::floor(std::log10(lo)));
  a.high = std::max(a.low + 1, static_cast<int>(std::ceil(std::log10(hi))));
  return a;
}

std::string bar(const Axis& a, const RowReport& row, const char* mode, const Column& c, double y,
                const char* colour, std::string extra) {
  std::optional<double> m = median_of(c);
  std::string s;
  double end = kPlotLeft;
  if (m) {
    end = std::max(a.x(*m), kPlotLeft + 1);
    s += fmt::format(
        R"(    <rect class="{}" data-row="{}" x="{}" y="{}" width="{:.1f}" height="{}" fill="{}"><title>{} {}: median {} {}</title></rect>)"
        "\n",
        mode, row.info->key, kPlotLeft, y, end - kPlotLeft, kBarHeight, colour, escaped(row.info->title), mode,
        grouped(*m), escaped(row.info->unit));
  }
  std::string label = m ? grouped(*m) + extra : c.figures ? "0" : "n/a (" + c.missing + ")";
  s += fmt::format(R"(    <text x="{:.1f}" y="{}" class="value">{}</text>)"
                   "\n",
                   end + 5, y + kBarHeight - 3, escaped(label));
  return s;
}

}  // namespace

std::string format_svg(const Report& r) {
  Axis a = axis_for(r);
  double plot_bottom = kTop + kRowHeight * static_cast<double>(r.rows.size());
  double height = plot_bottom + 50;
  std::string s = fmt::format(
      R"(<?xml version="1.0" encoding="UTF-8"?>
<svg xmlns="http://www.w3.org/2000/svg" width="{0}" height="{1}" viewBox="0 0 {0} {1}" font-family="sans-serif" font-size="12">
  <style>.value {{ font-size: 11px; fill: #333; }} .grid {{ stroke: #ddd; }} .title {{ font-size: 16px; font-weight: bold; }}</style>
  <rect width="100%" height="100%" fill="white"/>
  <text x="20" y="28" class="title">dunestat: median cycles per operation, native and in Dune mode (log scale)</text>
  <text x="20" y="48">{2}, {3}</text>
  <text x="20" y="64">KVM: {4}</text>
  <text x="20" y="80">{5}; TSC overhead subtracted</text>
  <rect x="{6}" y="90" width="12" height="12" fill="{7}"/><text x="{8}" y="100">native</text>
  <rect x="{9}" y="90" width="12" height="12" fill="{10}"/><text x="{11}" y="100">Dune mode (ratio to native)</text>
)",
      kWidth, height, escaped(r.machine.cpu_model), escaped(r.machine.kernel), escaped(describe_kvm(r.machine)),
      escaped(describe_tsc(r.machine)), kPlotLeft, kNativeColour, kPlotLeft + 16, kPlotLeft + 90, kDuneColour,
      kPlotLeft + 106);

  s += "  <g class=\"axis\">\n";
  for (int e = a.low; e <= a.high; ++e) {
    double x = kPlotLeft + (kPlotRight - kPlotLeft) * (e - a.low) / (a.high - a.low);
    s += fmt::format(R"(    <line class="grid" x1="{0:.1f}" y1="{1}" x2="{0:.1f}" y2="{2}"/><text x="{0:.1f}" y="{3}" text-anchor="middle">{4}</text>)"
                     "\n",
                     x, kTop - 6, plot_bottom, plot_bottom + 16, decade_label(e));
  }
  s += fmt::format(R"(    <text x="{}" y="{}" text-anchor="middle">cycles (median)</text>)"
                   "\n  </g>\n",
                   (kPlotLeft + kPlotRight) / 2, plot_bottom + 36);

  double y = kTop;
  for (const RowReport& row : r.rows) {
    std::string ratio = row.dune_to_native ? fmt::format(" ({}x", ratio_text(*row.dune_to_native)) : "";
    if (!ratio.empty())
      ratio += row.dune_to_floor ? fmt::format("; {:.3f}x the VM exit floor)", *row.dune_to_floor) : ")";
    s += fmt::format(R"(  <g class="pair" data-row="{}">)"
                     "\n",
                     row.info->key);
    s += fmt::format(R"(    <text x="{0}" y="{1}" text-anchor="end" font-weight="bold">{2}</text><text x="{0}" y="{3}" text-anchor="end" class="value">{4}</text>)"
                     "\n",
                     kPlotLeft - 10, y + 13, escaped(row.info->title), y + 28, escaped(row.info->unit));
    s += bar(a, row, "native", row.native, y, kNativeColour, "");
    s += bar(a, row, "dune", row.dune, y + kBarHeight + 2, kDuneColour, ratio);
    s += "  </g>\n";
    y += kRowHeight;
  }
  return s + "</svg>\n";
}

}  // namespace dunestat
