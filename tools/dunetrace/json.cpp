#include "json.h"

#include <fmt/format.h>

#include <cmath>

namespace dunetrace {

void JsonObject::key(std::string_view k) {
  if (body_.size() > 1) body_ += ',';
  body_ += json_quote(k);
  body_ += ':';
}

void JsonObject::add(std::string_view k, std::string_view value) {
  key(k);
  body_ += json_quote(value);
}

void JsonObject::add(std::string_view k, uint64_t value) {
  key(k);
  body_ += std::to_string(value);
}

void JsonObject::add(std::string_view k, int64_t value) {
  key(k);
  body_ += std::to_string(value);
}

void JsonObject::add(std::string_view k, double value) {
  key(k);
  body_ += std::isfinite(value) ? fmt::format("{}", value) : "null";
}

void JsonObject::add(std::string_view k, bool value) {
  key(k);
  body_ += value ? "true" : "false";
}

void JsonObject::add_null(std::string_view k) {
  key(k);
  body_ += "null";
}

void JsonObject::add_raw(std::string_view k, std::string_view json) {
  key(k);
  body_ += json;
}

std::string hex(uint64_t v) { return fmt::format("{:#x}", v); }

}  // namespace dunetrace
