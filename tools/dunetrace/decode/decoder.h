// decoder.h - what a syscall decoder works with: the call, the style, and
// helpers that turn an argument into strace's text for it.
//
// One decoder file per family (strace's model): decode_file, decode_memory,
// decode_process, decode_signal, decode_net, decode_time, decode_ipc, decode_creds,
// decode_misc.
#pragma once

#include <cstdint>
#include <cstring>
#include <string>
#include <vector>

#include "syscall_call.h"
#include "value.h"
#include "xlat.h"

namespace dunetrace::decode {

struct DecodeStyle {
  int string_limit = 32;  // -s
  bool fd_paths = false;  // -y
};

// How the result prints: strace's choice per syscall.
// A successful call whose result is a descriptor (trace_wire::returns_fd) shows
// it as one whatever the style.
enum class ResultStyle { kDecimal, kHex, kOctal, kNone };

struct Decoded {
  std::string name;
  std::vector<Value> args;
  ResultStyle result = ResultStyle::kDecimal;
  std::string note;  // after the result: "(flags O_RDWR)", "([{fd=3, revents=POLLIN}])"
  bool raw = false;  // no decoder knew the call: its arguments are plain numbers
};

class Ctx {
 public:
  Ctx(const SyscallCall& c, const DecodeStyle& s, Decoded& out) : call(c), style(s), out_(out) {}
  const SyscallCall& call;
  const DecodeStyle& style;

  uint64_t arg(int i) const { return call.args[i]; }
  int iarg(int i) const { return static_cast<int>(static_cast<uint32_t>(call.args[i])); }
  bool ok() const { return !call.failed() && call.returned; }
  int64_t ret() const { return call.ret; }

  void push(Value v) { out_.args.push_back(std::move(v)); }
  void push(std::string text) { out_.args.push_back(Value::txt(std::move(text))); }
  void result(ResultStyle r) { out_.result = r; }
  void note(std::string n) { out_.note = std::move(n); }

  // Argument i as an int ("-1"), an unsigned long ("4096"), hex ("0x1f"), an
  // address ("NULL" or hex), a descriptor (with its file under -y), a dirfd
  // (AT_FDCWD), a path, a string of -s bytes.
  Value integer(int i) const { return Value::txt(std::to_string(iarg(i))); }
  Value ulong(int i) const { return Value::txt(std::to_string(arg(i))); }
  Value lng(int i) const { return Value::txt(std::to_string(static_cast<int64_t>(arg(i)))); }
  Value hex(int i) const;
  Value ptr(int i) const { return Value::txt(address(arg(i))); }
  Value fd(int i) const;
  Value dirfd(int i) const;
  Value path(int i) const;
  Value string(int i) const;
  // Bytes the call read or wrote at argument i: full is how many there were
  // (the capture holds the first -s).
  Value bytes(int i, uint64_t full) const;
  // The bytes a successful call filled at argument i (its result says how
  // many); the address when it failed.
  Value filled(int i) const { return ok() ? bytes(i, static_cast<uint64_t>(ret())) : ptr(i); }
  // The captured bytes of argument i when they hold a whole struct of n bytes
  // (at_entry: as they were before the call, for the calls that capture that).
  const uint8_t* object(int i, size_t n, bool at_entry = false) const;
  template <typename T>
  bool read(int i, T* out, bool at_entry = false) const {
    const uint8_t* p = object(i, sizeof(T), at_entry);
    if (!p) return false;
    std::memcpy(out, p, sizeof(T));
    return true;
  }
  // An in-out int (a socklen_t) as strace shows it: "[16]", or "[128 => 16]"
  // when the call changed it.
  Value updated_int(int i) const;
  const Blob* blob(int i, int sub = 0) const { return call.blob(i, sub); }

 private:
  Decoded& out_;
};

// A field of a struct the capture copied.
template <typename T>
T load(const uint8_t* p, size_t off) {
  T v;
  std::memcpy(&v, p + off, sizeof v);
  return v;
}

using DecoderFn = void (*)(Ctx&);

struct DecoderEntry {
  long nr;
  DecoderFn fn;
};

// Each family's table (the registry joins them).
extern const DecoderEntry kFileDecoders[];
extern const size_t kFileDecodersCount;
extern const DecoderEntry kDescDecoders[];
extern const size_t kDescDecodersCount;
extern const DecoderEntry kMemoryDecoders[];
extern const size_t kMemoryDecodersCount;
extern const DecoderEntry kProcessDecoders[];
extern const size_t kProcessDecodersCount;
extern const DecoderEntry kSignalDecoders[];
extern const size_t kSignalDecodersCount;
extern const DecoderEntry kNetDecoders[];
extern const size_t kNetDecodersCount;
extern const DecoderEntry kTimeDecoders[];
extern const size_t kTimeDecodersCount;
extern const DecoderEntry kMiscDecoders[];
extern const size_t kMiscDecodersCount;
extern const DecoderEntry kIpcDecoders[];
extern const size_t kIpcDecodersCount;
extern const DecoderEntry kCredsDecoders[];
extern const size_t kCredsDecodersCount;

// Shared struct printers.
Value stat_value(const uint8_t* st);  // struct stat, abbreviated as strace does
Value timespec_value(const uint8_t* ts);
Value timeval_value(const uint8_t* tv);
std::string open_flags(uint64_t v);
std::string fd_text(int fd, const std::string& path);
// The iovec array captured at argument i (or at kMsgIovArg) with count
// elements; filled: the bytes a read moved (the result), else all of them.
Value iovec_value(const Ctx& c, int i, bool filled, uint64_t count);

}  // namespace dunetrace::decode
