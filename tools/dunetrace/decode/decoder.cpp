#include "decoder.h"

#include <fmt/format.h>

namespace dunetrace::decode {

Value Ctx::hex(int i) const { return Value::txt(c_hex(arg(i))); }

std::string fd_text(int fd, const std::string& path) {
  return path.empty() ? std::to_string(fd) : fmt::format("{}<{}>", fd, path);
}

Value Ctx::fd(int i) const {
  return Value::txt(style.fd_paths ? fd_text(iarg(i), call.fd_paths[i]) : std::to_string(iarg(i)));
}

Value Ctx::dirfd(int i) const { return iarg(i) == -100 ? Value::txt("AT_FDCWD") : fd(i); }

Value Ctx::path(int i) const {
  const Blob* b = blob(i);
  if (!b || b->status == dune::trace_wire::kCapFault) return ptr(i);
  Value v = Value::str(b->bytes, b->status == dune::trace_wire::kCapPartial);
  v.whole = true;
  return v;
}

Value Ctx::string(int i) const {
  const Blob* b = blob(i);
  if (!b || b->status == dune::trace_wire::kCapFault) return ptr(i);
  return Value::str(b->bytes, b->status == dune::trace_wire::kCapPartial);
}

Value Ctx::bytes(int i, uint64_t full) const {
  const Blob* b = blob(i);
  if (!b || b->status != dune::trace_wire::kCapOk) return ptr(i);
  return Value::str(b->bytes, full > b->bytes.size());
}

const uint8_t* Ctx::object(int i, size_t n, bool at_entry) const {
  const Blob* b = call.blob(i, 0, at_entry);
  if (!b || b->status != dune::trace_wire::kCapOk || b->bytes.size() < n) return nullptr;
  return reinterpret_cast<const uint8_t*>(b->bytes.data());
}

Value Ctx::updated_int(int i) const {
  uint32_t in = 0, out = 0;
  bool had_in = read(i, &in, true), has_out = read(i, &out);
  if (!has_out && !had_in) return ptr(i);
  Value v = Value::array();
  if (!has_out || (had_in && in == out))
    v.add(Value::txt(std::to_string(has_out ? out : in)));
  else if (!had_in)
    v.add(Value::txt(std::to_string(out)));
  else
    v.add(Value::update(Value::txt(std::to_string(in)), Value::txt(std::to_string(out))));
  return v;
}

}  // namespace dunetrace::decode
