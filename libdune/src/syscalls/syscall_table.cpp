#include "syscalls/syscall_table.h"

#include <sys/syscall.h>

#include <array>

namespace dune {
namespace {

struct NameEntry {
  long nr;
  const char* name;
};
constexpr NameEntry kNames[] = {
#include "syscall_names.inc"
};

constexpr std::array<const char*, kMaxSyscall> make_by_number() {
  std::array<const char*, kMaxSyscall> t{};
  for (const auto& e : kNames)
    if (e.nr >= 0 && e.nr < kMaxSyscall) t[static_cast<size_t>(e.nr)] = e.name;
  return t;
}
constexpr auto kByNumber = make_by_number();

}  // namespace

SyscallClass classify_syscall(long nr) {
  switch (nr) {
    case SYS_mmap:
    case SYS_munmap:
    case SYS_mprotect:
    case SYS_pkey_mprotect:
    case SYS_mremap:
    case SYS_brk:
    case SYS_madvise:
    case SYS_shmat:
    case SYS_shmdt:
    case SYS_remap_file_pages:
      return SyscallClass::kMemory;
    case SYS_exit:
    case SYS_exit_group:
    case SYS_arch_prctl:
      return SyscallClass::kProcess;
    case SYS_clone:
    case SYS_clone3:
    case SYS_fork:
    case SYS_vfork:
      return SyscallClass::kThread;
    case SYS_rt_sigaction:
    case SYS_rt_sigprocmask:
    case SYS_rt_sigreturn:
    case SYS_sigaltstack:
    case SYS_rt_sigsuspend:
    case SYS_rt_sigtimedwait:
    case SYS_rt_sigpending:
      return SyscallClass::kSignal;
    case SYS_execve:
    case SYS_execveat:
      return SyscallClass::kExec;
    case SYS_close:
    case SYS_close_range:
    case SYS_dup:
    case SYS_dup2:
    case SYS_dup3:
    case SYS_fcntl:
      return SyscallClass::kFd;
    default:
      return SyscallClass::kForward;
  }
}

const char* syscall_name(long nr) {
  if (nr < 0 || nr >= kMaxSyscall) return nullptr;
  return kByNumber[static_cast<size_t>(nr)];
}

long syscall_number(std::string_view name) {
  for (const auto& e : kNames)
    if (name == e.name) return e.nr;
  return -1;
}

const char* syscall_class_name(SyscallClass c) {
  switch (c) {
    case SyscallClass::kForward: return "forward";
    case SyscallClass::kMemory: return "memory";
    case SyscallClass::kProcess: return "process";
    case SyscallClass::kThread: return "thread";
    case SyscallClass::kSignal: return "signal";
    case SyscallClass::kExec: return "exec";
    case SyscallClass::kFd: return "fd";
  }
  return "?";
}

}  // namespace dune
