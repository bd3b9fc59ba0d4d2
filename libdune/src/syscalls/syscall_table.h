// syscall_table.h - x86-64 syscall names and which ones the library must handle itself.
#pragma once

#include <cstdint>
#include <string_view>

namespace dune {

constexpr long kMaxSyscall = 1024;

enum class SyscallClass : uint8_t {
  kForward,  // the host runs it with the program's arguments; nothing else to do
  kMemory,   // changes the address space: memslots and guest page tables follow
  kProcess,  // touches the vCPU or the VM: exit, exit_group, arch_prctl
  kThread,   // creates a task: clone, clone3, fork, vfork
  kSignal,   // signal state the guest sees: handlers, masks, frames
  kExec,     // replaces the image: the VM goes with it
  kFd,       // on descriptors: the library's own stay out of the program's reach
};

SyscallClass classify_syscall(long nr);
// "getppid", or nullptr for a number the build's headers do not know.
const char* syscall_name(long nr);
// The number of a name, or -1.
long syscall_number(std::string_view name);
const char* syscall_class_name(SyscallClass c);

}  // namespace dune
