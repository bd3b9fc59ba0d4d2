// capture_plan.cpp - what each syscall's line needs copied (syscall_capture.h).
#include <fcntl.h>
#include <sys/syscall.h>

#include "syscall_capture.h"

namespace dune::trace_wire {

namespace {

bool ok(int64_t ret) { return !(ret < 0 && ret >= -4095); }

struct Plan {
  CaptureItem (&out)[kMaxCaptureItems];
  int n = 0;
  void add(int arg, CaptureKind k, uint64_t len = 0, uint64_t total = ~0ull) {
    if (n < kMaxCaptureItems)
      out[n++] = CaptureItem{static_cast<uint8_t>(arg), k, static_cast<uint32_t>(len > 0xffffffffu ? 0xffffffffu : len),
                             total};
  }
  void path(int arg) { add(arg, CaptureKind::kPath); }
  void bytes(int arg, uint64_t len) { add(arg, CaptureKind::kBytes, len); }
};

// Sizes of the kernel's structs (x86-64) the decoders print.
constexpr uint64_t kStat = 144, kStatx = 256, kTimespec = 16, kSigaction = 32, kSigset = 8, kStackT = 24,
                   kRlimit = 16, kUtsnameShown = 65 * 2, kSysinfo = 112, kRusage = 144, kTermios = 36,
                   kWinsize = 8, kCloneArgs = 88, kItimerval = 32, kItimerspec = 32, kSiginfo = 48,
                   kEpollEvent = 12, kStatfs = 120, kSockaddrMax = 128, kMsghdr = 56, kTms = 32, kSembuf = 6,
                   kMqAttr = 32, kCapHeader = 8, kCapData = 24;

// The bytes of an fd_set the kernel reads for nfds descriptors (whole longs).
uint64_t fd_set_bytes(uint64_t nfds) {
  if (nfds > 1024) nfds = 1024;
  return (nfds + 63) / 64 * 8;
}

// select/pselect6's three sets and timeout: what the call found (entry plan)
// and what it left (the plan after it) are the same memory.
void select_args(Plan& p, const uint64_t (&a)[6]) {
  for (int i = 1; i <= 3; ++i)
    if (a[i]) p.bytes(i, fd_set_bytes(a[0]));
  if (a[4]) p.bytes(4, kTimespec);
}

}  // namespace

int capture_plan(long nr, const uint64_t (&a)[6], int64_t ret, uint32_t limit, CaptureItem (&out)[kMaxCaptureItems]) {
  Plan p{out};
  const bool good = ok(ret);
  const uint64_t got = good ? static_cast<uint64_t>(ret) : 0;
  switch (nr) {
    // Buffers the call filled: as many bytes as it says.
    case SYS_read:
    case SYS_pread64:
      if (good) p.bytes(1, got);
      break;
    case SYS_recvfrom:
      if (good) p.bytes(1, got);
      if (good && a[4] && a[5]) {
        p.bytes(5, 4);
        p.bytes(4, kSockaddrMax);
      }
      break;
    case SYS_getrandom:
      if (good) p.bytes(0, got);
      break;
    case SYS_getcwd:
      if (good) p.bytes(0, got);
      break;
    case SYS_readlink:
      p.path(0);
      if (good) p.bytes(1, got);
      break;
    case SYS_readlinkat:
      p.path(1);
      if (good) p.bytes(2, got);
      break;
    // Buffers the call was given.
    case SYS_write:
    case SYS_pwrite64:
      p.bytes(1, a[2]);
      break;
    case SYS_sendto:
      p.bytes(1, a[2]);
      if (a[4]) p.bytes(4, a[5] < kSockaddrMax ? a[5] : kSockaddrMax);
      break;
    case SYS_sendmsg:
      p.add(1, CaptureKind::kMsghdr);
      break;
    case SYS_recvmsg:
      if (good) p.add(1, CaptureKind::kMsghdr, 0, got);
      break;
    // Descriptor sets, after the call: the ready ones.
    case SYS_select:
    case SYS_pselect6:
      select_args(p, a);
      break;
    case SYS_readv:
    case SYS_preadv:
    case SYS_preadv2:
      p.add(1, CaptureKind::kIovec, a[2], got);
      break;
    case SYS_writev:
    case SYS_pwritev:
    case SYS_pwritev2:
      p.add(1, CaptureKind::kIovec, a[2]);
      break;
    // Paths.
    case SYS_open:
    case SYS_creat:
    case SYS_access:
    case SYS_chdir:
    case SYS_mkdir:
    case SYS_rmdir:
    case SYS_unlink:
    case SYS_chmod:
    case SYS_chown:
    case SYS_lchown:
    case SYS_truncate:
    case SYS_chroot:
    case SYS_acct:
    case SYS_swapoff:
    case SYS_uselib:
      p.path(0);
      break;
    case SYS_stat:
    case SYS_lstat:
      p.path(0);
      if (good) p.bytes(1, kStat);
      break;
    case SYS_statfs:
      p.path(0);
      if (good) p.bytes(1, kStatfs);
      break;
    case SYS_fstat:
      if (good) p.bytes(1, kStat);
      break;
    case SYS_fstatfs:
      if (good) p.bytes(1, kStatfs);
      break;
    case SYS_openat:
    case SYS_faccessat:
    case SYS_faccessat2:
    case SYS_mkdirat:
    case SYS_mknodat:
    case SYS_unlinkat:
    case SYS_fchmodat:
    case SYS_fchownat:
    case SYS_utimensat:
    case SYS_inotify_add_watch:
    case SYS_openat2:
      p.path(1);
      break;
    case SYS_newfstatat:
      p.path(1);
      if (good) p.bytes(2, kStat);
      break;
    case SYS_statx:
      p.path(1);
      if (good) p.bytes(4, kStatx);
      break;
    case SYS_rename:
    case SYS_link:
    case SYS_symlink:
      p.path(0);
      p.path(1);
      break;
    case SYS_renameat:
    case SYS_renameat2:
    case SYS_linkat:
      p.path(1);
      p.path(3);
      break;
    case SYS_symlinkat:
      p.path(0);
      p.path(2);
      break;
    case SYS_mount:
      p.path(0);
      p.path(1);
      p.add(2, CaptureKind::kString);
      break;
    case SYS_umount2:
      p.path(0);
      break;
    case SYS_execve:
      p.path(0);
      p.add(1, CaptureKind::kStrings);
      p.add(2, CaptureKind::kCount);
      break;
    case SYS_execveat:
      p.path(1);
      p.add(2, CaptureKind::kStrings);
      p.add(3, CaptureKind::kCount);
      break;
    case SYS_getxattr:
    case SYS_lgetxattr:
      p.path(0);
      p.add(1, CaptureKind::kString);
      if (good && a[2]) p.bytes(2, got);
      break;
    case SYS_fgetxattr:
      p.add(1, CaptureKind::kString);
      if (good && a[2]) p.bytes(2, got);
      break;
    case SYS_setxattr:
    case SYS_lsetxattr:
      p.path(0);
      p.add(1, CaptureKind::kString);
      p.bytes(2, a[3]);
      break;
    case SYS_fsetxattr:
      p.add(1, CaptureKind::kString);
      p.bytes(2, a[3]);
      break;
    case SYS_listxattr:
    case SYS_llistxattr:
      p.path(0);
      if (good && a[1]) p.bytes(1, got);
      break;
    case SYS_memfd_create:
      p.add(0, CaptureKind::kString);
      break;
    case SYS_getdents64:
    case SYS_getdents:
      if (good) p.add(1, CaptureKind::kDirents, got);
      break;
    // Signals.
    case SYS_rt_sigaction:
      p.bytes(1, kSigaction);
      if (good) p.bytes(2, kSigaction);
      break;
    case SYS_rt_sigprocmask:
      p.bytes(1, kSigset);
      if (good) p.bytes(2, kSigset);
      break;
    case SYS_rt_sigsuspend:
      p.bytes(0, kSigset);
      break;
    case SYS_rt_sigpending:
      if (good) p.bytes(0, kSigset);
      break;
    case SYS_sigaltstack:
      p.bytes(0, kStackT);
      if (good) p.bytes(1, kStackT);
      break;
    // Resources, identity, time.
    case SYS_prlimit64:
      p.bytes(2, kRlimit);
      if (good) p.bytes(3, kRlimit);
      break;
    case SYS_getrlimit:
      if (good) p.bytes(1, kRlimit);
      break;
    case SYS_setrlimit:
      p.bytes(1, kRlimit);
      break;
    case SYS_uname:
      if (good) p.bytes(0, kUtsnameShown);
      break;
    case SYS_sysinfo:
      if (good) p.bytes(0, kSysinfo);
      break;
    case SYS_getrusage:
      if (good) p.bytes(1, kRusage);
      break;
    case SYS_wait4:
      if (good) p.bytes(1, 4);
      break;
    case SYS_clock_gettime:
    case SYS_clock_getres:
      if (good) p.bytes(1, kTimespec);
      break;
    case SYS_gettimeofday:
      if (good) p.bytes(0, kTimespec);
      break;
    case SYS_nanosleep:
      p.bytes(0, kTimespec);
      break;
    case SYS_clock_nanosleep:
      p.bytes(2, kTimespec);
      break;
    case SYS_setitimer:
      p.bytes(1, kItimerval);
      if (good) p.bytes(2, kItimerval);
      break;
    case SYS_getitimer:
      if (good) p.bytes(1, kItimerval);
      break;
    case SYS_timerfd_settime:
      p.bytes(2, kItimerspec);
      if (good) p.bytes(3, kItimerspec);
      break;
    case SYS_timerfd_gettime:
      if (good) p.bytes(1, kItimerspec);
      break;
    case SYS_times:
      if (good) p.bytes(0, kTms);
      break;
    // IPC: a message is its type and then its text (msgrcv: the buffer's size, as strace).
    case SYS_msgsnd:
      p.bytes(1, 8 + a[2]);
      break;
    case SYS_msgrcv:
      if (good) p.bytes(1, 8 + a[2]);
      break;
    case SYS_semop:
    case SYS_semtimedop:
      p.bytes(1, (a[2] < 64 ? a[2] : 64) * kSembuf);
      if (nr == SYS_semtimedop && a[3]) p.bytes(3, kTimespec);
      break;
    case SYS_mq_open:
      p.path(0);
      if ((a[1] & O_CREAT) && a[3]) p.bytes(3, kMqAttr);
      break;
    case SYS_mq_unlink:
      p.path(0);
      break;
    case SYS_mq_timedsend:
      p.bytes(1, a[2]);
      if (a[4]) p.bytes(4, kTimespec);
      break;
    case SYS_mq_timedreceive:
      if (good) p.bytes(1, got);
      if (good && a[3]) p.bytes(3, 4);
      if (a[4]) p.bytes(4, kTimespec);
      break;
    // Process attributes.
    case SYS_getcpu:
      if (good && a[0]) p.bytes(0, 4);
      if (good && a[1]) p.bytes(1, 4);
      break;
    case SYS_getgroups:
      if (good && a[0]) p.bytes(1, got * 4);
      break;
    case SYS_setgroups:
      p.bytes(1, a[0] * 4);
      break;
    case SYS_capget:
    case SYS_capset:
      p.bytes(0, kCapHeader);
      if (nr == SYS_capset || good) p.bytes(1, kCapData);
      break;
    case SYS_splice:
      if (a[1]) p.bytes(1, 8);
      if (a[3]) p.bytes(3, 8);
      break;
    case SYS_futex:
      if (a[3]) p.bytes(3, kTimespec);
      break;
    // Descriptors and polling.
    case SYS_pipe:
    case SYS_pipe2:
      if (good) p.bytes(0, 8);
      break;
    case SYS_socketpair:
      if (good) p.bytes(3, 8);
      break;
    case SYS_poll:
    case SYS_ppoll:
      p.bytes(0, a[1] * 8 > limit * 8 ? uint64_t{limit} * 8 : a[1] * 8);
      if (nr == SYS_ppoll && a[2]) p.bytes(2, kTimespec);
      break;
    case SYS_ioctl:
      if (good && (a[1] == 0x5401 /* TCGETS */)) p.bytes(2, kTermios);
      if (good && (a[1] == 0x5413 /* TIOCGWINSZ */)) p.bytes(2, kWinsize);
      if (a[1] == 0x5414 /* TIOCSWINSZ */) p.bytes(2, kWinsize);
      break;
    case SYS_epoll_ctl:
      if (a[1] != 2 /* EPOLL_CTL_DEL */) p.bytes(3, kEpollEvent);
      break;
    case SYS_epoll_wait:
    case SYS_epoll_pwait:
      if (good && got > 0) p.bytes(1, (got < limit ? got : limit) * kEpollEvent);
      break;
    case SYS_sched_getaffinity:
      if (good) p.bytes(2, got);
      break;
    case SYS_sched_setaffinity:
      p.bytes(2, a[1]);
      break;
    // Sockets.
    case SYS_connect:
    case SYS_bind:
      p.bytes(1, a[2] > 128 ? 128 : a[2]);
      break;
    case SYS_accept:
    case SYS_accept4:
    case SYS_getsockname:
    case SYS_getpeername:
      if (good && a[1]) {
        p.bytes(2, 4);
        p.bytes(1, 128);
      }
      break;
    case SYS_setsockopt:
      p.bytes(3, a[4] > 64 ? 64 : a[4]);
      break;
    case SYS_getsockopt:
      if (good) {
        p.bytes(4, 4);
        p.bytes(3, 64);
      }
      break;
    case SYS_clone3:
      p.bytes(0, a[1] < kCloneArgs ? a[1] : kCloneArgs);
      break;
    case SYS_waitid:
      if (good) p.bytes(2, kSiginfo);
      break;
    case SYS_rt_sigtimedwait:
      p.bytes(0, kSigset);
      if (good) p.bytes(1, kSiginfo);
      break;
    case SYS_rt_sigqueueinfo:
      p.bytes(2, kSiginfo);
      break;
    case SYS_rt_tgsigqueueinfo:
      p.bytes(3, kSiginfo);
      break;
    case SYS_rt_sigreturn:
      p.add(0, CaptureKind::kFrameMask);
      break;
    default: break;
  }
  return p.n;
}

bool wants_entry(long nr) {
  // The entry plan's own list: what it copies given every pointer.
  const uint64_t all[6] = {1, 1, 1, 1, 1, 1};
  CaptureItem items[kMaxCaptureItems];
  return entry_plan(nr, all, items) > 0;
}

int entry_plan(long nr, const uint64_t (&a)[6], CaptureItem (&out)[kMaxCaptureItems]) {
  Plan p{out};
  switch (nr) {
    case SYS_select:
    case SYS_pselect6:
      select_args(p, a);
      break;
    // The socklen_t (or msghdr) whose length the kernel rewrites.
    case SYS_accept:
    case SYS_accept4:
    case SYS_getsockname:
    case SYS_getpeername:
      if (a[2]) p.bytes(2, 4);
      break;
    case SYS_recvfrom:
      if (a[5]) p.bytes(5, 4);
      break;
    case SYS_getsockopt:
      if (a[4]) p.bytes(4, 4);
      break;
    case SYS_recvmsg:
      if (a[1]) p.bytes(1, kMsghdr);
      break;
    default: break;
  }
  return p.n;
}

bool returns_fd(long nr, const uint64_t (&a)[6]) {
  switch (nr) {
    case SYS_open: case SYS_openat: case SYS_openat2: case SYS_creat: case SYS_dup: case SYS_dup2:
    case SYS_dup3: case SYS_socket: case SYS_accept: case SYS_accept4: case SYS_epoll_create:
    case SYS_epoll_create1: case SYS_eventfd: case SYS_eventfd2: case SYS_memfd_create: case SYS_pidfd_open:
    case SYS_signalfd: case SYS_signalfd4: case SYS_timerfd_create: case SYS_inotify_init:
    case SYS_inotify_init1: case SYS_userfaultfd: case SYS_pidfd_getfd: case SYS_open_tree:
    case SYS_fsopen: case SYS_fsmount: case SYS_perf_event_open: return true;
    case SYS_fcntl: return a[1] == F_DUPFD || a[1] == F_DUPFD_CLOEXEC;
    default: return false;
  }
}

}  // namespace dune::trace_wire
