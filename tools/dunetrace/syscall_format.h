// syscall_format.h - a syscall as text: its arguments and its result, strace-like.
#pragma once

#include <cstdint>
#include <string>

namespace dunetrace {

// How many arguments the syscall takes (6 where dunetrace does not know).
int syscall_arity(long nr);
// An argument: small numbers in decimal, negative ints (AT_FDCWD) as such, the rest in hex.
std::string format_syscall_arg(uint64_t v);
// "= 3", "= 0x7f1234560000", "= -1 ENOENT (No such file or directory)".
std::string format_syscall_result(int64_t ret);
// -errno for a failed result, else 0.
int syscall_error(int64_t ret);

}  // namespace dunetrace
