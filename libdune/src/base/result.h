// result.h - a value or a negative errno: the error type at every internal boundary.
#pragma once

#include <cerrno>
#include <optional>
#include <utility>

namespace dune {

// A negative errno, wrapped so that it cannot be mistaken for a value.
struct Error {
  int code;  // negative errno, e.g. -ENOMEM
  explicit Error(int c) : code(c < 0 ? c : -c) {}
};

template <typename T>
class [[nodiscard]] Result {
 public:
  Result(T v) : value_(std::move(v)) {}
  Result(Error e) : error_(e.code) {}

  bool ok() const { return error_ == 0; }
  explicit operator bool() const { return ok(); }
  int error() const { return error_; }
  T& value() & { return *value_; }
  T&& value() && { return std::move(*value_); }
  const T& value() const& { return *value_; }
  T* operator->() { return &*value_; }
  T& operator*() { return *value_; }

 private:
  std::optional<T> value_;
  int error_ = 0;
};

// For operations that produce no value: 0 or a negative errno.
template <>
class [[nodiscard]] Result<void> {
 public:
  Result() = default;
  Result(Error e) : error_(e.code) {}
  bool ok() const { return error_ == 0; }
  explicit operator bool() const { return ok(); }
  int error() const { return error_; }

 private:
  int error_ = 0;
};

using Status = Result<void>;

inline Status status_of(long r) {
  if (r < 0 && r > -4096) return Error(static_cast<int>(r));
  return {};
}

}  // namespace dune

// Propagates an error Result out of the calling function.
#define DUNE_TRY(expr)                                     \
  do {                                                     \
    auto&& dune_try_r_ = (expr);                           \
    if (!dune_try_r_.ok()) return ::dune::Error(dune_try_r_.error()); \
  } while (0)
