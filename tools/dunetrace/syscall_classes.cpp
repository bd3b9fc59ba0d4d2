#include "syscall_classes.h"

#include <sys/syscall.h>

#include <initializer_list>

#include "syscalls/fd_args.h"

namespace dunetrace {

namespace {

using Set = std::bitset<1024>;

Set of(std::initializer_list<long> nrs) {
  Set s;
  for (long nr : nrs) s.set(static_cast<size_t>(nr));
  return s;
}

// Calls that take a file name (strace's %file).
Set file_class() {
  return of({SYS_open, SYS_openat, SYS_openat2, SYS_creat, SYS_stat, SYS_lstat, SYS_newfstatat, SYS_statx,
             SYS_access, SYS_faccessat, SYS_faccessat2, SYS_execve, SYS_execveat, SYS_chdir, SYS_chroot, SYS_mkdir,
             SYS_mkdirat, SYS_rmdir, SYS_unlink, SYS_unlinkat, SYS_rename, SYS_renameat, SYS_renameat2, SYS_link,
             SYS_linkat, SYS_symlink, SYS_symlinkat, SYS_readlink, SYS_readlinkat, SYS_chmod, SYS_fchmodat,
             SYS_chown, SYS_lchown, SYS_fchownat, SYS_truncate, SYS_utime, SYS_utimes, SYS_futimesat,
             SYS_utimensat, SYS_mknod, SYS_mknodat, SYS_statfs, SYS_getxattr, SYS_lgetxattr, SYS_setxattr,
             SYS_lsetxattr, SYS_listxattr, SYS_llistxattr, SYS_removexattr, SYS_lremovexattr, SYS_mount,
             SYS_umount2, SYS_swapon, SYS_swapoff, SYS_acct, SYS_pivot_root, SYS_inotify_add_watch,
             SYS_fanotify_mark, SYS_name_to_handle_at, SYS_quotactl, SYS_uselib, SYS_open_tree,
             SYS_move_mount, SYS_fsconfig, SYS_mount_setattr});
}

Set process_class() {
  return of({SYS_clone, SYS_clone3, SYS_fork, SYS_vfork, SYS_execve, SYS_execveat, SYS_exit, SYS_exit_group,
             SYS_wait4, SYS_waitid, SYS_kill, SYS_tkill, SYS_tgkill, SYS_rt_sigqueueinfo, SYS_rt_tgsigqueueinfo,
             SYS_pidfd_open, SYS_pidfd_send_signal, SYS_unshare});
}

Set memory_class() {
  return of({SYS_brk, SYS_mmap, SYS_munmap, SYS_mprotect, SYS_pkey_mprotect, SYS_mremap, SYS_madvise,
             SYS_process_madvise, SYS_msync, SYS_mlock, SYS_mlock2, SYS_munlock, SYS_mlockall, SYS_munlockall,
             SYS_mincore, SYS_remap_file_pages, SYS_shmat, SYS_shmdt, SYS_mbind, SYS_set_mempolicy,
             SYS_get_mempolicy, SYS_migrate_pages, SYS_move_pages});
}

Set signal_class() {
  return of({SYS_rt_sigaction, SYS_rt_sigprocmask, SYS_rt_sigreturn, SYS_rt_sigsuspend, SYS_rt_sigpending,
             SYS_rt_sigtimedwait, SYS_rt_sigqueueinfo, SYS_rt_tgsigqueueinfo, SYS_sigaltstack, SYS_kill,
             SYS_tkill, SYS_tgkill, SYS_pause, SYS_signalfd, SYS_signalfd4, SYS_pidfd_send_signal});
}

Set network_class() {
  return of({SYS_socket, SYS_socketpair, SYS_bind, SYS_listen, SYS_accept, SYS_accept4, SYS_connect,
             SYS_getsockname, SYS_getpeername, SYS_sendto, SYS_recvfrom, SYS_sendmsg, SYS_recvmsg,
             SYS_sendmmsg, SYS_recvmmsg, SYS_shutdown, SYS_setsockopt, SYS_getsockopt});
}

// Calls that take or make a descriptor.
Set desc_class() {
  Set s = of({SYS_open, SYS_openat, SYS_openat2, SYS_creat, SYS_pipe, SYS_pipe2, SYS_socket, SYS_socketpair,
              SYS_accept, SYS_accept4, SYS_epoll_create, SYS_epoll_create1, SYS_eventfd, SYS_eventfd2,
              SYS_memfd_create, SYS_pidfd_open, SYS_signalfd, SYS_signalfd4, SYS_timerfd_create,
              SYS_inotify_init, SYS_inotify_init1, SYS_fanotify_init, SYS_userfaultfd, SYS_perf_event_open,
              SYS_io_uring_setup, SYS_memfd_secret, SYS_poll, SYS_ppoll, SYS_select, SYS_pselect6});
  for (long nr = 0; nr < 1024; ++nr)
    if (dune::fd_spec(nr).any()) s.set(static_cast<size_t>(nr));
  return s;
}

Set ipc_class() {
  return of({SYS_msgget, SYS_msgsnd, SYS_msgrcv, SYS_msgctl, SYS_semget, SYS_semop, SYS_semtimedop,
             SYS_semctl, SYS_shmget, SYS_shmat, SYS_shmdt, SYS_shmctl});
}

Set clock_class() {
  return of({SYS_clock_gettime, SYS_clock_settime, SYS_clock_getres, SYS_clock_adjtime, SYS_gettimeofday,
             SYS_settimeofday, SYS_adjtimex, SYS_time});
}

Set creds_class() {
  return of({SYS_getuid, SYS_geteuid, SYS_getgid, SYS_getegid, SYS_setuid, SYS_setgid, SYS_setreuid,
             SYS_setregid, SYS_setresuid, SYS_setresgid, SYS_getresuid, SYS_getresgid, SYS_setfsuid,
             SYS_setfsgid, SYS_getgroups, SYS_setgroups, SYS_capget, SYS_capset, SYS_prctl});
}

}  // namespace

std::optional<Set> syscall_class(std::string_view name) {
  if (name == "file") return file_class();
  if (name == "process") return process_class();
  if (name == "memory") return memory_class();
  if (name == "signal") return signal_class();
  if (name == "network" || name == "net") return network_class();
  if (name == "desc") return desc_class();
  if (name == "ipc") return ipc_class();
  if (name == "clock") return clock_class();
  if (name == "creds") return creds_class();
  return std::nullopt;
}

std::string syscall_class_names() { return "%file, %process, %memory, %signal, %network, %desc, %ipc, %clock, %creds"; }

}  // namespace dunetrace
