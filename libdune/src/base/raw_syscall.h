// raw_syscall.h - syscalls that never touch errno: the host side shares its TLS with the guest.
#pragma once

#include <fcntl.h>

#include <cstddef>
#include <cstdint>
#include <sys/syscall.h>

namespace dune::sys {

// Returns the kernel's result: a value, or -errno. Never sets errno, whose TLS
// slot belongs to the program running in the guest on the same thread. Each
// `syscall` here records where it is (section dune_raw_syscalls, relative to
// the entry, so that the section needs no relocation): the library's
// own code also runs in the guest, and its syscalls on its own descriptors
// must not be refused as the program's would be (is_library_syscall).
inline long syscall6(long nr, long a1 = 0, long a2 = 0, long a3 = 0, long a4 = 0, long a5 = 0,
                     long a6 = 0) {
  long ret;
  register long r10 asm("r10") = a4;
  register long r8 asm("r8") = a5;
  register long r9 asm("r9") = a6;
  asm volatile("0: syscall\n\t"
               ".pushsection dune_raw_syscalls, \"a?\"\n\t"
               ".long 0b - .\n\t"
               ".popsection"
               : "=a"(ret)
               : "a"(nr), "D"(a1), "S"(a2), "d"(a3), "r"(r10), "r"(r8), "r"(r9)
               : "rcx", "r11", "memory");
  return ret;
}

inline bool is_error(long r) { return r < 0 && r > -4096; }

// Whether a guest syscall returning to return_rip (its RCX) is one of the
// library's own (syscall6 above), not the program's.
bool is_library_syscall(uint64_t return_rip);

inline long ioctl(int fd, unsigned long req, const void* arg) {
  return syscall6(SYS_ioctl, fd, static_cast<long>(req), reinterpret_cast<long>(arg));
}
inline long ioctl(int fd, unsigned long req, long arg) {
  return syscall6(SYS_ioctl, fd, static_cast<long>(req), arg);
}
inline long close(int fd) { return syscall6(SYS_close, fd); }
inline long open(const char* path, int flags, int mode = 0) {
  return syscall6(SYS_openat, -100 /* AT_FDCWD */, reinterpret_cast<long>(path), flags, mode);
}
inline long read(int fd, void* buf, size_t n) {
  return syscall6(SYS_read, fd, reinterpret_cast<long>(buf), static_cast<long>(n));
}
inline long write(int fd, const void* buf, size_t n) {
  return syscall6(SYS_write, fd, reinterpret_cast<long>(buf), static_cast<long>(n));
}
inline long mmap(void* addr, size_t len, int prot, int flags, int fd, long off) {
  return syscall6(SYS_mmap, reinterpret_cast<long>(addr), static_cast<long>(len), prot, flags, fd,
                  off);
}
inline long munmap(void* addr, size_t len) {
  return syscall6(SYS_munmap, reinterpret_cast<long>(addr), static_cast<long>(len));
}
inline long mprotect(void* addr, size_t len, int prot) {
  return syscall6(SYS_mprotect, reinterpret_cast<long>(addr), static_cast<long>(len), prot);
}
inline long getpid() { return syscall6(SYS_getpid); }
inline long gettid() { return syscall6(SYS_gettid); }

// Writes all of buf, retrying on short writes and EINTR.
inline long write_all(int fd, const char* buf, size_t n) {
  size_t done = 0;
  while (done < n) {
    long r = write(fd, buf + done, n - done);
    if (r == -4 /* EINTR */) continue;
    if (r <= 0) return r < 0 ? r : -5 /* EIO */;
    done += static_cast<size_t>(r);
  }
  return static_cast<long>(done);
}

// Up to cap bytes of a small file (/proc's), read to its end: the bytes read,
// or open's negative errno.
inline long read_small_file(const char* path, char* buf, size_t cap) {
  long fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return fd;
  size_t used = 0;
  while (used < cap) {
    long r = read(static_cast<int>(fd), buf + used, cap - used);
    if (r == -4 /* EINTR */) continue;
    if (r <= 0) break;
    used += static_cast<size_t>(r);
  }
  close(static_cast<int>(fd));
  return static_cast<long>(used);
}

}  // namespace dune::sys
