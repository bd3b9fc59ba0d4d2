#include "syscalls/syscall_table.h"
#include "syscalls/fd_args.h"

#include <gtest/gtest.h>
#include <sys/syscall.h>

namespace dune {
namespace {

TEST(SyscallTable, NamesAndNumbers) {
  EXPECT_STREQ(syscall_name(SYS_getppid), "getppid");
  EXPECT_STREQ(syscall_name(SYS_openat), "openat");
  EXPECT_STREQ(syscall_name(0), "read");
  EXPECT_EQ(syscall_name(-1), nullptr);
  EXPECT_EQ(syscall_name(100000), nullptr);
  EXPECT_EQ(syscall_number("getppid"), SYS_getppid);
  EXPECT_EQ(syscall_number("no_such_call"), -1);
}

TEST(SyscallTable, MemorySyscallsAreHandled) {
  for (long nr : {SYS_mmap, SYS_munmap, SYS_mprotect, SYS_mremap, SYS_brk, SYS_madvise, SYS_shmat,
                  SYS_shmdt, SYS_pkey_mprotect})
    EXPECT_EQ(classify_syscall(nr), SyscallClass::kMemory) << syscall_name(nr);
}

TEST(SyscallTable, VmTouchingSyscalls) {
  EXPECT_EQ(classify_syscall(SYS_arch_prctl), SyscallClass::kProcess);
  EXPECT_EQ(classify_syscall(SYS_exit_group), SyscallClass::kProcess);
  EXPECT_EQ(classify_syscall(SYS_clone), SyscallClass::kThread);
  EXPECT_EQ(classify_syscall(SYS_clone3), SyscallClass::kThread);
  EXPECT_EQ(classify_syscall(SYS_vfork), SyscallClass::kThread);
  EXPECT_EQ(classify_syscall(SYS_rt_sigaction), SyscallClass::kSignal);
  EXPECT_EQ(classify_syscall(SYS_execve), SyscallClass::kExec);
}

TEST(SyscallTable, DescriptorSyscallsAreChecked) {
  for (long nr : {SYS_close, SYS_close_range, SYS_dup, SYS_dup2, SYS_dup3, SYS_fcntl})
    EXPECT_EQ(classify_syscall(nr), SyscallClass::kFd) << syscall_name(nr);
}

TEST(SyscallTable, EverythingElseIsForwarded) {
  for (long nr : {SYS_read, SYS_write, SYS_openat, SYS_getppid, SYS_futex, SYS_ioctl, SYS_clock_gettime})
    EXPECT_EQ(classify_syscall(nr), SyscallClass::kForward) << syscall_name(nr);
}

}  // namespace
}  // namespace dune

// Where a syscall takes a descriptor (syscalls/fd_args.h).
namespace dune {
namespace {

TEST(FdArgs, PlainDescriptorsByArgument) {
  EXPECT_EQ(fd_spec(SYS_read).fds, 1u);
  EXPECT_EQ(fd_spec(SYS_fstat).fds, 1u);
  EXPECT_EQ(fd_spec(SYS_epoll_ctl).fds, 1u | 4u);  // the epoll and the watched descriptor
  EXPECT_EQ(fd_spec(SYS_splice).fds, 1u | 4u);
  EXPECT_EQ(fd_spec(SYS_sendfile).fds, 1u | 2u);
  EXPECT_FALSE(fd_spec(SYS_getpid).any());
  EXPECT_FALSE(fd_spec(SYS_open).any());  // a path, no descriptor
}

TEST(FdArgs, DirectoryDescriptorsComeWithTheirPath) {
  FdSpec openat = fd_spec(SYS_openat);
  EXPECT_EQ(openat.fds, 0u);
  EXPECT_EQ(openat.dir[0], 0);
  EXPECT_EQ(openat.path[0], 1);
  EXPECT_EQ(openat.dir[1], 0xff);
  FdSpec sym = fd_spec(SYS_symlinkat);
  EXPECT_EQ(sym.dir[0], 1);
  EXPECT_EQ(sym.path[0], 2);
  FdSpec ren = fd_spec(SYS_renameat2);
  EXPECT_EQ(ren.dir[1], 2);
  EXPECT_EQ(ren.path[1], 3);
}

}  // namespace
}  // namespace dune
