// json.h - one JSON object built field by field (dunetrace's --json lines).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "common/json_string.h"

namespace dunetrace {

using dune_tools::json_quote;

class JsonObject {
 public:
  void add(std::string_view key, std::string_view value);
  void add(std::string_view key, const char* value) { add(key, std::string_view(value)); }
  void add(std::string_view key, const std::string& value) { add(key, std::string_view(value)); }
  void add(std::string_view key, uint64_t value);
  void add(std::string_view key, int64_t value);
  void add(std::string_view key, int value) { add(key, static_cast<int64_t>(value)); }
  void add(std::string_view key, uint32_t value) { add(key, static_cast<uint64_t>(value)); }
  void add(std::string_view key, double value);
  void add(std::string_view key, bool value);
  void add_null(std::string_view key);
  // value must already be JSON (an object or array).
  void add_raw(std::string_view key, std::string_view json);
  std::string str() const { return body_ + "}"; }

 private:
  void key(std::string_view k);
  std::string body_ = "{";
};

// "0x7f00...": addresses print as hex strings (JSON numbers lose 64-bit precision).
std::string hex(uint64_t v);

}  // namespace dunetrace
