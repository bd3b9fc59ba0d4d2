#include "syscall_format.h"

#include <fmt/format.h>
#include <sys/syscall.h>

#include "names.h"

namespace dunetrace {

namespace {

struct Arity {
  long nr;
  int args;
};

// The x86-64 signatures of the syscalls programs make most.
constexpr Arity kArities[] = {
    {SYS_read, 3},          {SYS_write, 3},         {SYS_open, 3},           {SYS_close, 1},
    {SYS_stat, 2},          {SYS_fstat, 2},         {SYS_lstat, 2},          {SYS_poll, 3},
    {SYS_lseek, 3},         {SYS_mmap, 6},          {SYS_mprotect, 3},       {SYS_munmap, 2},
    {SYS_brk, 1},           {SYS_rt_sigaction, 4},  {SYS_rt_sigprocmask, 4}, {SYS_rt_sigreturn, 0},
    {SYS_ioctl, 3},         {SYS_pread64, 4},       {SYS_pwrite64, 4},       {SYS_readv, 3},
    {SYS_writev, 3},        {SYS_access, 2},        {SYS_pipe, 1},           {SYS_select, 5},
    {SYS_sched_yield, 0},   {SYS_mremap, 5},        {SYS_msync, 3},          {SYS_madvise, 3},
    {SYS_dup, 1},           {SYS_dup2, 2},          {SYS_pause, 0},          {SYS_nanosleep, 2},
    {SYS_getitimer, 2},     {SYS_alarm, 1},         {SYS_setitimer, 3},      {SYS_getpid, 0},
    {SYS_sendfile, 4},      {SYS_socket, 3},        {SYS_connect, 3},        {SYS_accept, 3},
    {SYS_sendto, 6},        {SYS_recvfrom, 6},      {SYS_sendmsg, 3},        {SYS_recvmsg, 3},
    {SYS_shutdown, 2},      {SYS_bind, 3},          {SYS_listen, 2},         {SYS_getsockname, 3},
    {SYS_getpeername, 3},   {SYS_socketpair, 4},    {SYS_setsockopt, 5},     {SYS_getsockopt, 5},
    {SYS_clone, 5},         {SYS_fork, 0},          {SYS_vfork, 0},          {SYS_execve, 3},
    {SYS_exit, 1},          {SYS_wait4, 4},         {SYS_kill, 2},           {SYS_uname, 1},
    {SYS_fcntl, 3},         {SYS_flock, 2},         {SYS_fsync, 1},          {SYS_fdatasync, 1},
    {SYS_truncate, 2},      {SYS_ftruncate, 2},     {SYS_getdents, 3},       {SYS_getcwd, 2},
    {SYS_chdir, 1},         {SYS_fchdir, 1},        {SYS_rename, 2},         {SYS_mkdir, 2},
    {SYS_rmdir, 1},         {SYS_creat, 2},         {SYS_link, 2},           {SYS_unlink, 1},
    {SYS_symlink, 2},       {SYS_readlink, 3},      {SYS_chmod, 2},          {SYS_fchmod, 2},
    {SYS_chown, 3},         {SYS_fchown, 3},        {SYS_umask, 1},          {SYS_gettimeofday, 2},
    {SYS_getrlimit, 2},     {SYS_getrusage, 2},     {SYS_sysinfo, 1},        {SYS_getuid, 0},
    {SYS_getgid, 0},        {SYS_setuid, 1},        {SYS_setgid, 1},         {SYS_geteuid, 0},
    {SYS_getegid, 0},       {SYS_setpgid, 2},       {SYS_getppid, 0},        {SYS_getpgrp, 0},
    {SYS_setsid, 0},        {SYS_getgroups, 2},     {SYS_getpgid, 1},        {SYS_getsid, 1},
    {SYS_rt_sigpending, 2}, {SYS_rt_sigtimedwait, 4}, {SYS_rt_sigqueueinfo, 3}, {SYS_rt_sigsuspend, 2},
    {SYS_sigaltstack, 2},   {SYS_statfs, 2},        {SYS_fstatfs, 2},        {SYS_prctl, 5},
    {SYS_arch_prctl, 2},    {SYS_setrlimit, 2},     {SYS_sync, 0},           {SYS_gettid, 0},
    {SYS_tkill, 2},         {SYS_time, 1},          {SYS_futex, 6},          {SYS_sched_setaffinity, 3},
    {SYS_sched_getaffinity, 3}, {SYS_getdents64, 3}, {SYS_set_tid_address, 1}, {SYS_clock_gettime, 2},
    {SYS_clock_getres, 2},  {SYS_clock_nanosleep, 4}, {SYS_exit_group, 1},   {SYS_epoll_wait, 4},
    {SYS_epoll_ctl, 4},     {SYS_tgkill, 3},        {SYS_openat, 4},         {SYS_mkdirat, 3},
    {SYS_newfstatat, 4},    {SYS_unlinkat, 3},      {SYS_renameat, 4},       {SYS_readlinkat, 4},
    {SYS_faccessat, 3},     {SYS_pselect6, 6},      {SYS_ppoll, 5},          {SYS_set_robust_list, 2},
    {SYS_get_robust_list, 3}, {SYS_epoll_pwait, 6}, {SYS_eventfd2, 2},       {SYS_epoll_create1, 1},
    {SYS_dup3, 3},          {SYS_pipe2, 2},         {SYS_prlimit64, 4},      {SYS_getrandom, 3},
    {SYS_memfd_create, 2},  {SYS_execveat, 5},      {SYS_statx, 5},          {SYS_rseq, 4},
    {SYS_clone3, 2},        {SYS_close_range, 3},   {SYS_faccessat2, 4},     {SYS_accept4, 4},
    {SYS_mlock, 2},         {SYS_munlock, 2},       {SYS_shmget, 3},         {SYS_shmat, 3},
    {SYS_shmdt, 1},         {SYS_shmctl, 3},        {SYS_getcpu, 3},         {SYS_sched_getparam, 2},
    {SYS_timerfd_create, 2}, {SYS_timerfd_settime, 4}, {SYS_signalfd4, 4},   {SYS_inotify_init1, 1},
    {SYS_pidfd_open, 2},    {SYS_process_vm_readv, 6}, {SYS_membarrier, 3},  {SYS_io_uring_setup, 2},
};

}  // namespace

int syscall_arity(long nr) {
  for (const Arity& a : kArities)
    if (a.nr == nr) return a.args;
  return 6;
}

std::string format_syscall_arg(uint64_t v) {
  auto s = static_cast<int64_t>(v);
  if (s < 0 && s >= -4096) return std::to_string(s);
  // An int argument: the upper half is whatever the caller left there.
  auto low = static_cast<int32_t>(v & 0xffffffff);
  if ((v >> 32) == 0 && low < 0 && low >= -4096) return std::to_string(low);
  if (v < 0x10000) return std::to_string(v);
  return fmt::format("{:#x}", v);
}

int syscall_error(int64_t ret) { return ret < 0 && ret >= -4095 ? static_cast<int>(-ret) : 0; }

std::string format_syscall_result(int64_t ret) {
  // The kernel's restart codes, as strace shows them: the syscall is made
  // again after the signal handler (docs/signals-and-syscalls.md).
  switch (ret) {
    case -512: return "= ? ERESTARTSYS (To be restarted if SA_RESTART is set)";
    case -513: return "= ? ERESTARTNOINTR (To be restarted)";
    case -514: return "= ? ERESTARTNOHAND (To be restarted if no handler)";
    case -516: return "= ? ERESTART_RESTARTBLOCK (Interrupted by signal)";
    default: break;
  }
  if (int err = syscall_error(ret)) return fmt::format("= -1 {} ({})", errno_name(err), errno_message(err));
  auto v = static_cast<uint64_t>(ret);
  return v < 0x10000 ? fmt::format("= {}", v) : fmt::format("= {:#x}", v);
}

}  // namespace dunetrace
