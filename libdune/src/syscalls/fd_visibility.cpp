// fd_visibility.cpp - the library's descriptors are, to every call the program
// makes, what a closed number is: EBADF where a call takes one, POLLNVAL in a
// poll, EBADF from select, and no entry in a listing of /proc/self/fd.
#include <fcntl.h>
#include <poll.h>
#include <sys/mman.h>
#include <sys/statfs.h>
#include <sys/syscall.h>

#include <climits>
#include <cstdio>
#include <cstring>

#include "base/host_arena.h"
#include "base/own_fds.h"
#include "base/raw_syscall.h"
#include "runtime/guest_memory.h"
#include "syscalls/fd_args.h"
#include "syscalls/handlers.h"

namespace dune {

namespace {

bool library_fd(uint64_t arg) {
  return own_fds::owns(static_cast<int>(static_cast<uint32_t>(arg)));  // the kernel reads an unsigned int
}

// Whether a *at call's path makes it use its directory descriptor.
bool path_uses_dirfd(uint64_t path) {
  if (!path) return true;
  char first = 0;
  if (!copy_from_guest(&first, path, 1)) return false;  // the kernel's EFAULT comes first
  return first != '/';
}

// select/pselect6: a library descriptor in any of the sets is EBADF.
bool in_select_sets(const SyscallArgs& s) {
  uint64_t nfds = s.a[0];
  if (nfds > INT_MAX || static_cast<int>(nfds) <= own_fds::lowest()) return false;
  struct Ctx {
    const SyscallArgs* s;
    int nfds;
    bool found;
  } ctx{&s, static_cast<int>(nfds), false};
  own_fds::for_each(
      [](int fd, void* p) {
        auto* c = static_cast<Ctx*>(p);
        if (fd >= c->nfds || c->found) return;
        for (int set = 1; set <= 3; ++set) {
          if (!c->s->a[set]) continue;
          uint64_t word = 0;
          if (!copy_from_guest(&word, c->s->a[set] + static_cast<uint64_t>(fd / 64) * 8, 8)) continue;
          if (word & (1ull << (fd % 64))) c->found = true;
        }
      },
      &ctx);
  return ctx.found;
}

// /proc/<this process>/fd or fdinfo, and the same under task/<tid>/ or
// thread-self: listings of this process's descriptors.
bool lists_own_descriptors(int fd) {
  char link[64], target[128];
  std::snprintf(link, sizeof link, "/proc/thread-self/fd/%d", fd);
  long n = sys::syscall6(SYS_readlink, reinterpret_cast<long>(link), reinterpret_cast<long>(target),
                         sizeof target - 1);
  if (n <= 0) return false;
  target[n] = 0;
  char pid[32];
  std::snprintf(pid, sizeof pid, "/proc/%ld/", sys::getpid());
  if (std::strncmp(target, pid, std::strlen(pid)) != 0) return false;
  const char* end = target + n;
  auto ends_with = [&](const char* tail) {
    size_t l = std::strlen(tail);
    return static_cast<size_t>(n) >= l && std::strcmp(end - l, tail) == 0;
  };
  return ends_with("/fd") || ends_with("/fdinfo");
}

bool names_library_fd(const char* name) {
  if (!*name) return false;
  long v = 0;
  for (const char* p = name; *p; ++p) {
    if (*p < '0' || *p > '9' || v > INT_MAX / 10) return false;
    v = v * 10 + (*p - '0');
  }
  return v <= INT_MAX && library_fd(static_cast<uint64_t>(v));
}

struct Dirent64 {
  uint64_t ino;
  int64_t off;
  unsigned short reclen;
  unsigned char type;
  char name[1];
};

// Drops the library's entries from the n bytes getdents64 wrote at buf: the
// bytes left, or n if there were none (or the directory lists something else).
long without_library_entries(int fd, uint64_t buf, long n) {
  // Only procfs lists descriptors: one fstatfs spares every other directory
  // the copy and the scan.
  constexpr long kProcSuperMagic = 0x9fa0;
  struct statfs fs{};
  if (sys::syscall6(SYS_fstatfs, fd, reinterpret_cast<long>(&fs)) != 0 || fs.f_type != kProcSuperMagic) return n;
  if (n > (1l << 20)) return n;
  // The library's allocator, never malloc (memory.md).
  struct Copy {
    size_t size;
    char* p;
    explicit Copy(size_t n) : size(n), p(static_cast<char*>(host_arena()->allocate(n, 8))) {}
    ~Copy() { host_arena()->deallocate(p, size, 8); }
  } buffer(static_cast<size_t>(n));
  char* copy = buffer.p;
  if (!copy_from_guest(copy, buf, static_cast<size_t>(n))) return n;
  bool any = false;
  for (long off = 0; off < n;) {
    auto* d = reinterpret_cast<Dirent64*>(copy + off);
    if (d->reclen == 0) return n;
    if (names_library_fd(d->name)) any = true;
    off += d->reclen;
  }
  if (!any || !lists_own_descriptors(fd)) return n;
  long kept = 0;
  for (long off = 0; off < n;) {
    auto* d = reinterpret_cast<Dirent64*>(copy + off);
    unsigned short len = d->reclen;
    if (!names_library_fd(d->name)) {
      if (kept != off) std::memmove(copy + kept, copy + off, len);
      kept += len;
    }
    off += len;
  }
  if (!copy_to_guest(buf, copy, static_cast<size_t>(kept))) return n;
  return kept;
}

}  // namespace

namespace {
bool refused(const SyscallArgs& s) {
  if (s.nr == SYS_select || s.nr == SYS_pselect6) return in_select_sets(s);
  if (s.nr == SYS_mmap) return !(s.a[3] & MAP_ANONYMOUS) && library_fd(s.a[4]);
  FdSpec spec = fd_spec(s.nr);
  if (!spec.any()) return false;
  for (int i = 0; i < 6; ++i)
    if ((spec.fds & (1u << i)) && library_fd(s.a[i])) return true;
  for (int k = 0; k < 2; ++k) {
    if (spec.dir[k] == 0xff) break;
    if (library_fd(s.a[spec.dir[k]]) && path_uses_dirfd(s.a[spec.path[k]])) return true;
  }
  return false;
}
}  // namespace

bool hide_library_fds(const SyscallArgs& s, uint64_t return_rip, SyscallArgs* hidden) {
  if (own_fds::lowest() == INT_MAX || !refused(s)) return false;
  // The library's own code in the guest (dune_set_event_listener's ioctl) uses them.
  if (sys::is_library_syscall(return_rip)) return false;
  // Each of the library's numbers becomes one that is never open (fs.nr_open
  // stays below INT_MAX): the kernel then answers as it does for a closed
  // number, after the checks it makes first (dup3's flags: EINVAL, not EBADF).
  *hidden = s;
  FdSpec spec = fd_spec(s.nr);
  for (int i = 0; i < 6; ++i) {
    bool fd_arg = (spec.fds & (1u << i)) || (s.nr == SYS_mmap && i == 4);
    for (int k = 0; k < 2 && spec.dir[k] != 0xff; ++k) fd_arg = fd_arg || spec.dir[k] == i;
    if (fd_arg && library_fd(s.a[i])) hidden->a[i] = INT_MAX;
  }
  // dup2/dup3 onto the same number: still the same (dup3's EINVAL).
  if ((s.nr == SYS_dup2 || s.nr == SYS_dup3) && s.a[1] == s.a[0]) hidden->a[1] = hidden->a[0];
  return true;
}

long with_library_fds_invalid_in_poll(const SyscallArgs& s, long (*run)(void*), void* ctx) {
  // The kernel answers POLLNVAL for a number that is not open: INT_MAX never
  // is (fs.nr_open stays below it). The program's numbers go back afterwards.
  constexpr size_t kBatch = 256;
  uint64_t fds = s.a[0], nfds = s.a[1];
  if (own_fds::lowest() == INT_MAX || nfds == 0 || nfds > (1u << 20)) return run(ctx);
  struct Swapped {
    uint64_t at;
    int fd;
  };
  Swapped swapped[64];
  size_t nswapped = 0;
  pollfd batch[kBatch];
  for (uint64_t i = 0; i < nfds && nswapped < 64; i += kBatch) {
    size_t n = nfds - i < kBatch ? static_cast<size_t>(nfds - i) : kBatch;
    if (!copy_from_guest(batch, fds + i * sizeof(pollfd), n * sizeof(pollfd))) break;
    for (size_t j = 0; j < n && nswapped < 64; ++j) {
      if (batch[j].fd < 0 || !library_fd(static_cast<uint64_t>(batch[j].fd))) continue;
      uint64_t at = fds + (i + j) * sizeof(pollfd);
      int invalid = INT_MAX;
      if (copy_to_guest(at, &invalid, sizeof invalid)) swapped[nswapped++] = Swapped{at, batch[j].fd};
    }
  }
  long r = run(ctx);
  for (size_t k = 0; k < nswapped; ++k) (void)copy_to_guest(swapped[k].at, &swapped[k].fd, sizeof(int));
  return r;
}

long sys_getdents64(GuestThread& t, const SyscallArgs& s) {
  for (;;) {
    long n = forward_syscall(t, s);
    if (n <= 0 || own_fds::lowest() == INT_MAX) return n;
    long kept = without_library_entries(static_cast<int>(s.a[0]), s.a[1], n);
    // A chunk of nothing but the library's entries is not the end of the listing.
    if (kept > 0 || kept == n) return kept;
  }
}

}  // namespace dune
