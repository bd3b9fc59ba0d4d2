// syscall_decoder.h - a finished syscall as strace prints it: the line, or its
// parts for --json.
#pragma once

#include <string>

#include "decoder.h"

namespace dunetrace::decode {

// The decoded call: name, arguments and how its result prints.
Decoded decode_syscall(const SyscallCall& call, const DecodeStyle& style);

// "= 3", "= 0x7f...", "= -1 ENOENT (No such file or directory)", "= ?", with
// the note strace adds ("(flags O_RDWR)") and -y's "<path>".
std::string result_text(const Decoded& d, const SyscallCall& call, const DecodeStyle& style);

// strace's line without a pid prefix: "openat(AT_FDCWD, \"/etc\", O_RDONLY) = 3",
// the result at column 40 as strace aligns it.
std::string syscall_line(const SyscallCall& call, const DecodeStyle& style);

// The arguments as a JSON array of decoded values.
std::string args_json(const Decoded& d, const DecodeStyle& style);

}  // namespace dunetrace::decode
