#include "syscalls/fd_args.h"

#include <sys/syscall.h>

namespace dune {

namespace {

constexpr FdSpec plain(uint8_t fds) {
  FdSpec s;
  s.fds = fds;
  return s;
}

constexpr FdSpec at(uint8_t dir, uint8_t path) {
  FdSpec s;
  s.dir[0] = dir;
  s.path[0] = path;
  return s;
}

constexpr FdSpec at2(uint8_t dir0, uint8_t path0, uint8_t dir1, uint8_t path1) {
  FdSpec s = at(dir0, path0);
  s.dir[1] = dir1;
  s.path[1] = path1;
  return s;
}

constexpr uint8_t kArg0 = 1, kArg1 = 2, kArg2 = 4;

}  // namespace

FdSpec fd_spec(long nr) {
  switch (nr) {
    // Files and descriptors (close, dup, fcntl, dup2 and dup3's old one included).
    case SYS_close: case SYS_dup: case SYS_fcntl: case SYS_dup2: case SYS_dup3:
    case SYS_read: case SYS_write: case SYS_pread64: case SYS_pwrite64:
    case SYS_readv: case SYS_writev: case SYS_preadv: case SYS_pwritev:
    case SYS_preadv2: case SYS_pwritev2: case SYS_fstat: case SYS_lseek:
    case SYS_ioctl: case SYS_fsync: case SYS_fdatasync: case SYS_ftruncate:
    case SYS_getdents: case SYS_getdents64: case SYS_fchdir: case SYS_fchmod:
    case SYS_fchown: case SYS_flock: case SYS_fstatfs: case SYS_fadvise64:
    case SYS_fallocate: case SYS_sync_file_range: case SYS_syncfs: case SYS_readahead:
    case SYS_fsetxattr: case SYS_fgetxattr: case SYS_flistxattr: case SYS_fremovexattr:
    case SYS_vmsplice: case SYS_inotify_add_watch: case SYS_inotify_rm_watch:
    case SYS_timerfd_settime: case SYS_timerfd_gettime: case SYS_signalfd: case SYS_signalfd4:
    case SYS_finit_module: case SYS_setns: case SYS_pidfd_send_signal: case SYS_pidfd_getfd:
    case SYS_io_uring_enter: case SYS_io_uring_register: case SYS_process_madvise:
    case SYS_open_by_handle_at:
      return plain(kArg0);
    case SYS_sendfile: case SYS_tee:
      return plain(kArg0 | kArg1);
    case SYS_splice: case SYS_copy_file_range:
      return plain(kArg0 | kArg2);
    // Sockets.
    case SYS_connect: case SYS_accept: case SYS_accept4: case SYS_bind: case SYS_listen:
    case SYS_sendto: case SYS_recvfrom: case SYS_sendmsg: case SYS_recvmsg:
    case SYS_sendmmsg: case SYS_recvmmsg: case SYS_shutdown: case SYS_getsockname:
    case SYS_getpeername: case SYS_setsockopt: case SYS_getsockopt:
      return plain(kArg0);
    // Event interfaces.
    case SYS_epoll_wait: case SYS_epoll_pwait: case SYS_epoll_pwait2:
      return plain(kArg0);
    case SYS_epoll_ctl:
      return plain(kArg0 | kArg2);
    // Paths relative to a directory descriptor.
    case SYS_openat: case SYS_mkdirat: case SYS_mknodat: case SYS_fchownat:
    case SYS_futimesat: case SYS_newfstatat: case SYS_unlinkat: case SYS_readlinkat:
    case SYS_fchmodat: case SYS_faccessat: case SYS_faccessat2: case SYS_utimensat:
    case SYS_name_to_handle_at: case SYS_statx: case SYS_openat2:
#ifdef SYS_fchmodat2
    case SYS_fchmodat2:
#endif
      return at(0, 1);
    case SYS_symlinkat:
      return at(1, 2);
    case SYS_renameat: case SYS_renameat2: case SYS_linkat:
      return at2(0, 1, 2, 3);
    default:
      return FdSpec{};
  }
}

}  // namespace dune
