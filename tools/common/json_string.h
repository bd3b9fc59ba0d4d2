// json_string.h - a string as a JSON string literal, for the tools' --json output.
#pragma once

#include <fmt/format.h>

#include <string>
#include <string_view>

namespace dune_tools {

// s as a JSON string literal, quotes included: the two characters JSON
// requires escaped, the common controls by name, other controls (and DEL) as \uXXXX.
inline std::string json_quote(std::string_view s) {
  std::string out = "\"";
  for (unsigned char c : s) {
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\n': out += "\\n"; break;
      case '\t': out += "\\t"; break;
      case '\r': out += "\\r"; break;
      default:
        if (c < 0x20 || c == 0x7f)
          out += fmt::format("\\u{:04x}", c);
        else
          out += static_cast<char>(c);
    }
  }
  out += '"';
  return out;
}

}  // namespace dune_tools
