// parsed.h - a value or the one message that says why there is none.
#pragma once

#include <string>
#include <utility>

namespace dunetrace {

template <typename T>
struct Parsed {
  T value{};
  std::string error;  // empty: value is good

  static Parsed fail(std::string message) {
    Parsed p;
    p.error = std::move(message);
    return p;
  }
  bool ok() const { return error.empty(); }
};

}  // namespace dunetrace
