#include "syscall_decoder.h"

#include <fmt/format.h>

#include <array>

#include "names.h"
#include "syscall_capture.h"
#include "syscall_format.h"

namespace dunetrace::decode {

namespace {

// Every family's table in one array indexed by number.
const std::array<DecoderFn, 1024>& registry() {
  static const std::array<DecoderFn, 1024> table = [] {
    std::array<DecoderFn, 1024> t{};
    auto add = [&t](const DecoderEntry* e, size_t n) {
      for (size_t i = 0; i < n; ++i)
        if (e[i].nr >= 0 && e[i].nr < 1024) t[static_cast<size_t>(e[i].nr)] = e[i].fn;
    };
    add(kFileDecoders, kFileDecodersCount);
    add(kDescDecoders, kDescDecodersCount);
    add(kMemoryDecoders, kMemoryDecodersCount);
    add(kProcessDecoders, kProcessDecodersCount);
    add(kSignalDecoders, kSignalDecodersCount);
    add(kNetDecoders, kNetDecodersCount);
    add(kTimeDecoders, kTimeDecodersCount);
    add(kMiscDecoders, kMiscDecodersCount);
    add(kIpcDecoders, kIpcDecodersCount);
    add(kCredsDecoders, kCredsDecodersCount);
    return t;
  }();
  return table;
}

}  // namespace

bool parse_captures(std::string_view area, SyscallCall* call) {
  using dune::trace_wire::BlobHeader;
  while (!area.empty()) {
    if (area.size() < sizeof(BlobHeader)) return false;
    BlobHeader h;
    std::memcpy(&h, area.data(), sizeof h);
    area.remove_prefix(sizeof h);
    if (h.len > area.size() || h.arg > dune::trace_wire::kMaxBlobArg) return false;
    call->blobs.push_back(
        Blob{h.arg, h.sub, h.status, h.when == dune::trace_wire::kAtEntry, std::string(area.substr(0, h.len))});
    area.remove_prefix(h.len);
  }
  return true;
}

Decoded decode_syscall(const SyscallCall& call, const DecodeStyle& style) {
  Decoded d;
  d.name = syscall_name(call.nr);
  DecoderFn fn = call.nr >= 0 && call.nr < 1024 ? registry()[static_cast<size_t>(call.nr)] : nullptr;
  if (fn) {
    Ctx c(call, style, d);
    fn(c);
    return d;
  }
  d.raw = true;
  for (int i = 0; i < syscall_arity(call.nr); ++i) d.args.push_back(Value::txt(format_syscall_arg(call.args[i])));
  return d;
}

std::string result_text(const Decoded& d, const SyscallCall& call, const DecodeStyle& style) {
  if (!call.returned) return "= ?";
  if (call.failed()) return format_syscall_result(call.ret);
  std::string s;
  if (dune::trace_wire::returns_fd(call.nr, call.args)) {
    s = "= " + (style.fd_paths ? fd_text(static_cast<int>(call.ret), call.fd_paths[6]) : std::to_string(call.ret));
  } else {
    switch (d.result) {
      case ResultStyle::kHex: s = "= " + c_hex(static_cast<uint64_t>(call.ret)); break;
      case ResultStyle::kOctal: s = "= " + octal(static_cast<uint64_t>(call.ret)); break;
      case ResultStyle::kNone: return "= ?";
      case ResultStyle::kDecimal: s = fmt::format("= {}", call.ret); break;
    }
  }
  if (!d.note.empty()) s += " " + d.note;
  return s;
}

std::string syscall_line(const SyscallCall& call, const DecodeStyle& style) {
  Decoded d = decode_syscall(call, style);
  std::string s = d.name + "(";
  for (size_t i = 0; i < d.args.size(); ++i) {
    if (i) s += ", ";
    s += render_text(d.args[i], style.string_limit);
  }
  s += ")";
  s += s.size() < 40 ? std::string(40 - s.size(), ' ') : std::string(" ");
  return s + result_text(d, call, style);
}

std::string args_json(const Decoded& d, const DecodeStyle& style) {
  std::string s = "[";
  for (size_t i = 0; i < d.args.size(); ++i) {
    if (i) s += ",";
    s += render_json(d.args[i], style.string_limit);
  }
  return s + "]";
}

}  // namespace dunetrace::decode
