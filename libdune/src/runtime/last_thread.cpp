#include "runtime/last_thread.h"

#include <fcntl.h>
#include <cerrno>
#include <sys/syscall.h>

#include <cstdint>
#include <cstdlib>
#include <cstring>

#include "base/raw_syscall.h"
#include "debug/gdb_session.h"

namespace dune {

namespace {

// include/linux/sched.h: a kernel-made task of a user process (io_uring's
// workers, vhost and KVM's). Reported in field 9 of /proc/PID/task/TID/stat.
constexpr unsigned long kPfUserWorker = 0x00004000;
constexpr unsigned long kPfIoWorker = 0x00000010;

struct LinuxDirent64 {
  uint64_t ino;
  int64_t off;
  unsigned short reclen;
  unsigned char type;
  char name[1];
};

// Whether task tid of this process may still run program code: not a kernel
// worker, not already exited (a main thread that ended before the others
// stays listed, a zombie). True if unreadable.
bool runs_program(const char* tid) {
  char path[64] = "/proc/self/task/";
  std::strncat(path, tid, 20);
  std::strncat(path, "/stat", 6);
  char buf[512];
  long n = sys::read_small_file(path, buf, sizeof buf - 1);
  if (n == -ENOENT) return false;  // gone meanwhile
  if (n <= 0) return true;
  buf[n] = 0;
  // The name in parentheses may hold anything: count fields after its end.
  const char* p = std::strrchr(buf, ')');
  if (!p || p[1] != ' ' || !p[2]) return true;
  char state = p[2];
  if (state == 'Z' || state == 'X' || state == 'x') return false;
  for (int field = 2; field < 9 && *p; ++p)
    if (*p == ' ') ++field;
  unsigned long flags = std::strtoul(p, nullptr, 10);
  return (flags & (kPfUserWorker | kPfIoWorker)) == 0;
}

}  // namespace

bool is_last_program_thread() {
  long fd = sys::open("/proc/self/task", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return false;  // cannot tell: the plain thread exit
  long self = sys::gettid();
  char buf[2048];
  bool last = true;
  for (;;) {
    long n = sys::syscall6(SYS_getdents64, fd, reinterpret_cast<long>(buf), sizeof buf);
    if (n <= 0) break;
    for (long off = 0; off < n;) {
      auto* d = reinterpret_cast<LinuxDirent64*>(buf + off);
      off += d->reclen;
      if (d->name[0] < '0' || d->name[0] > '9') continue;
      long tid = std::strtol(d->name, nullptr, 10);
      // The gdb server's thread ends with the process, not the other way round.
      if (tid == self || tid == debug::server_tid()) continue;
      if (runs_program(d->name)) last = false;
    }
    if (!last) break;
  }
  sys::close(static_cast<int>(fd));
  return last;
}

}  // namespace dune
