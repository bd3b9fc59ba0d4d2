// syscall_classes.h - strace's syscall classes for -e trace=%CLASS.
#pragma once

#include <bitset>
#include <optional>
#include <string>
#include <string_view>

namespace dunetrace {

// The syscalls of a class named without its '%': file, process, memory,
// signal, network (net), desc, ipc, clock, creds.
std::optional<std::bitset<1024>> syscall_class(std::string_view name);
// "%file, %process, ..." for error messages and --help.
std::string syscall_class_names();

}  // namespace dunetrace
