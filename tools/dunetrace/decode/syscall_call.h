// syscall_call.h - one finished syscall as the decoders see it: its number,
// arguments and result, and the memory the tracer copied for it (the capture
// plan of syscall_capture.h says which).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "syscall_capture.h"
#include "syscall_format.h"

namespace dunetrace::decode {

struct Blob {
  uint8_t arg = 0;  // the argument it came from
  uint8_t sub = 0;  // 0: the argument itself; i+1: element i of an array it points to
  uint8_t status = 0;  // dune::trace_wire::CaptureStatus
  bool at_entry = false;  // copied before the call ran
  std::string bytes;
};

struct SyscallCall {
  long nr = -1;
  uint64_t args[6] = {};
  int64_t ret = 0;
  bool returned = true;  // false: exit, exit_group, a successful execve's "= ?"
  int pid = 0;           // for the dirfd/fd paths of -y
  std::vector<Blob> blobs;
  std::string fd_paths[7];  // -y: the file of each descriptor argument, [6] the result's

  // What the memory held after the call (or, at_entry, before it).
  const Blob* blob(int arg, int sub = 0, bool at_entry = false) const {
    for (const Blob& b : blobs)
      if (b.arg == arg && b.sub == sub && b.at_entry == at_entry) return &b;
    return nullptr;
  }
  bool failed() const { return syscall_error(ret) != 0; }
};

// Reads the capture area of a trace record into call->blobs (false: malformed).
bool parse_captures(std::string_view area, SyscallCall* call);

}  // namespace dunetrace::decode
