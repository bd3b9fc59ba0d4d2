#include "value.h"

#include <cstdlib>

#include "common/json_string.h"

namespace dunetrace::decode {

std::string quote_bytes(const std::string& bytes, int limit, bool truncated) {
  size_t n = bytes.size();
  bool more = truncated;
  if (limit >= 0 && n > static_cast<size_t>(limit)) {
    n = static_cast<size_t>(limit);
    more = true;
  }
  std::string out = "\"";
  for (size_t i = 0; i < n; ++i) {
    auto c = static_cast<unsigned char>(bytes[i]);
    switch (c) {
      case '"': out += "\\\""; continue;
      case '\\': out += "\\\\"; continue;
      case '\f': out += "\\f"; continue;
      case '\n': out += "\\n"; continue;
      case '\r': out += "\\r"; continue;
      case '\t': out += "\\t"; continue;
      case '\v': out += "\\v"; continue;
      default: break;
    }
    if (c >= ' ' && c < 0x7f) {
      out += static_cast<char>(c);
      continue;
    }
    // Octal, as short as it can be unless a digit follows (it would join the number).
    bool digit_next = i + 1 < n && bytes[i + 1] >= '0' && bytes[i + 1] <= '7';
    out += '\\';
    if (digit_next || c >= 0100) out += static_cast<char>('0' + (c >> 6));
    if (digit_next || c >= 010) out += static_cast<char>('0' + ((c >> 3) & 7));
    out += static_cast<char>('0' + (c & 7));
  }
  out += '"';
  if (more) out += "...";
  return out;
}

namespace {

void text_of(const Value& v, int limit, std::string& out) {
  switch (v.kind) {
    case Value::kText: out += v.text; break;
    case Value::kString: out += quote_bytes(v.text, v.whole ? -1 : limit, v.truncated); break;
    case Value::kStruct:
    case Value::kArray: {
      bool is_struct = v.kind == Value::kStruct;
      out += is_struct ? '{' : '[';
      bool first = true;
      for (const auto& [name, item] : v.items) {
        if (!first) out += ", ";
        first = false;
        if (!name.empty()) out += name + "=";
        text_of(item, limit, out);
      }
      if (v.truncated) out += first ? "..." : ", ...";
      out += is_struct ? '}' : ']';
      break;
    }
    case Value::kUpdate:
      if (v.items.size() != 2) break;
      text_of(v.items[0].second, limit, out);
      out += " => ";
      text_of(v.items[1].second, limit, out);
      break;
  }
  if (!v.comment.empty()) out += " /* " + v.comment + " */";
}

bool is_number(const std::string& s) {
  if (s.empty() || s.size() > 18) return false;
  size_t i = s[0] == '-' ? 1 : 0;
  if (i == s.size()) return false;
  for (; i < s.size(); ++i)
    if (s[i] < '0' || s[i] > '9') return false;
  return true;
}

void json_of(const Value& v, int limit, std::string& out) {
  switch (v.kind) {
    case Value::kText: out += is_number(v.text) ? v.text : dune_tools::json_quote(v.text); break;
    case Value::kString: {
      if (v.whole) limit = -1;
      bool cut = v.truncated || (limit >= 0 && v.text.size() > static_cast<size_t>(limit));
      std::string shown = limit >= 0 && v.text.size() > static_cast<size_t>(limit) ? v.text.substr(0, limit) : v.text;
      if (!cut) {
        out += dune_tools::json_quote(shown);
      } else {
        out += "{\"string\":" + dune_tools::json_quote(shown) + ",\"truncated\":true}";
      }
      break;
    }
    case Value::kStruct: {
      out += '{';
      bool first = true;
      for (const auto& [name, item] : v.items) {
        if (!first) out += ',';
        first = false;
        out += dune_tools::json_quote(name) + ":";
        json_of(item, limit, out);
      }
      if (v.truncated) out += std::string(first ? "" : ",") + "\"...\":true";
      out += '}';
      break;
    }
    case Value::kArray: {
      out += '[';
      bool first = true;
      for (const auto& item : v.items) {
        if (!first) out += ',';
        first = false;
        json_of(item.second, limit, out);
      }
      if (v.truncated) out += std::string(first ? "" : ",") + "\"...\"";
      out += ']';
      break;
    }
    case Value::kUpdate:
      if (v.items.size() != 2) {
        out += "null";
        break;
      }
      out += "{\"in\":";
      json_of(v.items[0].second, limit, out);
      out += ",\"out\":";
      json_of(v.items[1].second, limit, out);
      out += '}';
      break;
  }
}

}  // namespace

std::string render_text(const Value& v, int limit) {
  std::string out;
  text_of(v, limit, out);
  return out;
}

std::string render_json(const Value& v, int limit) {
  std::string out;
  if (!v.comment.empty() && v.kind == Value::kText) {
    out = "{\"value\":";
    json_of(v, limit, out);
    return out + ",\"comment\":" + dune_tools::json_quote(v.comment) + "}";
  }
  json_of(v, limit, out);
  return out;
}

}  // namespace dunetrace::decode
