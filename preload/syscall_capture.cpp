#include "syscall_capture.h"

#include <sys/syscall.h>

#include <cstring>

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
                   kWinsize = 8, kCloneArgs = 88, kItimerval = 32, kItimerspec = 32;

}  // namespace

int capture_plan(long nr, const uint64_t (&a)[6], int64_t ret, uint32_t limit, CaptureItem (&out)[kMaxCaptureItems]) {
  Plan p{out};
  const bool good = ok(ret);
  const uint64_t got = good ? static_cast<uint64_t>(ret) : 0;
  switch (nr) {
    // Buffers the call filled: as many bytes as it says.
    case SYS_read:
    case SYS_pread64:
    case SYS_recvfrom:
      if (good) p.bytes(1, got);
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
    case SYS_sendto:
      p.bytes(1, a[2]);
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
      if (good) p.bytes(1, 120);
      break;
    case SYS_fstat:
      if (good) p.bytes(1, kStat);
      break;
    case SYS_fstatfs:
      if (good) p.bytes(1, 120);
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
    case SYS_set_robust_list:
    default: break;
  }
  return p.n;
}

namespace {

class Writer {
 public:
  Writer(uint8_t* area, size_t room) : area_(area), room_(room) {}
  size_t used() const { return used_; }
  // Room for a blob of up to want bytes: the header is written by finish.
  uint8_t* begin(size_t want, size_t* got) {
    if (used_ + sizeof(BlobHeader) > room_) {
      *got = 0;
      return nullptr;
    }
    size_t free = room_ - used_ - sizeof(BlobHeader);
    *got = want < free ? want : free;
    return area_ + used_ + sizeof(BlobHeader);
  }
  void finish(int arg, int sub, CaptureStatus st, size_t len) {
    BlobHeader h{static_cast<uint8_t>(arg), static_cast<uint8_t>(sub), st, 0, static_cast<uint32_t>(len)};
    std::memcpy(area_ + used_, &h, sizeof h);
    used_ += sizeof h + len;
  }
  bool full() const { return used_ + sizeof(BlobHeader) > room_; }

 private:
  uint8_t* area_;
  size_t room_;
  size_t used_ = 0;
};

constexpr uint64_t kPage = 4096;

// A NUL-terminated string at addr, at most max bytes (without its NUL), read a
// page at a time so that a string near an unmapped page is still read.
void put_string(Writer& w, int arg, int sub, uint64_t addr, size_t max, CaptureReader read) {
  size_t room;
  uint8_t* dst = w.begin(max, &room);
  if (!dst) return;
  if (!addr) {
    w.finish(arg, sub, kCapFault, 0);
    return;
  }
  size_t n = 0;
  while (n < room) {
    uint64_t at = addr + n;
    size_t chunk = kPage - (at % kPage);
    if (chunk > room - n) chunk = room - n;
    if (!read(at, dst + n, chunk)) {
      w.finish(arg, sub, n ? kCapPartial : kCapFault, n);
      return;
    }
    const void* nul = std::memchr(dst + n, 0, chunk);
    if (nul) {
      w.finish(arg, sub, kCapOk, static_cast<size_t>(static_cast<const uint8_t*>(nul) - dst));
      return;
    }
    n += chunk;
  }
  w.finish(arg, sub, kCapPartial, n);
}

void put_bytes(Writer& w, int arg, int sub, uint64_t addr, size_t len, CaptureReader read) {
  size_t room;
  uint8_t* dst = w.begin(len, &room);
  if (!dst) return;
  bool good = len == 0 || (room > 0 && read(addr, dst, room));
  w.finish(arg, sub, good ? kCapOk : kCapFault, good ? room : 0);
}

// Counts the pointers of a NULL-terminated array (at most 1 << 20).
void put_count(Writer& w, int arg, uint64_t addr, CaptureReader read) {
  uint32_t count = 0;
  CaptureStatus st = kCapOk;
  uint64_t ptrs[64];
  for (uint64_t at = addr; count < (1u << 20);) {
    size_t chunk = sizeof ptrs;
    uint64_t to_page = kPage - (at % kPage);
    if (to_page < chunk) chunk = to_page;
    if (!read(at, ptrs, chunk)) {
      st = kCapFault;
      break;
    }
    size_t k = 0;
    for (; k < chunk / 8 && ptrs[k]; ++k) ++count;
    if (k < chunk / 8) break;
    at += chunk;
  }
  size_t room;
  uint8_t* dst = w.begin(4, &room);
  if (!dst || room < 4) return;
  std::memcpy(dst, &count, 4);
  w.finish(arg, 0, st, 4);
}

void put_dirents(Writer& w, int arg, uint64_t addr, uint64_t len, CaptureReader read) {
  uint32_t count = 0;
  CaptureStatus st = kCapOk;
  for (uint64_t off = 0; off + 19 <= len;) {
    uint16_t reclen = 0;  // linux_dirent64: d_ino, d_off, then d_reclen at 16
    if (!read(addr + off + 16, &reclen, 2) || reclen == 0) {
      st = kCapFault;
      break;
    }
    ++count;
    off += reclen;
  }
  size_t room;
  uint8_t* dst = w.begin(4, &room);
  if (!dst || room < 4) return;
  std::memcpy(dst, &count, 4);
  w.finish(arg, 0, st, 4);
}

void put_iovec(Writer& w, const CaptureItem& it, uint64_t addr, uint32_t limit, CaptureReader read) {
  uint32_t n = it.len < limit ? it.len : limit;
  if (n > 64) n = 64;
  uint64_t iov[2 * 64];
  size_t room;
  uint8_t* dst = w.begin(n * 16, &room);
  if (!dst) return;
  if (room < n * 16 || !read(addr, iov, n * 16)) {
    w.finish(it.arg, 0, kCapFault, 0);
    return;
  }
  std::memcpy(dst, iov, n * 16);
  w.finish(it.arg, 0, kCapOk, n * 16);
  uint64_t left = it.total;
  for (uint32_t i = 0; i < n && !w.full(); ++i) {
    uint64_t len = iov[2 * i + 1];
    if (len > left) len = left;
    left -= len;
    put_bytes(w, it.arg, static_cast<int>(i + 1), iov[2 * i], len > limit ? limit : len, read);
  }
}

void put_strings(Writer& w, int arg, uint64_t addr, uint32_t limit, CaptureReader read) {
  uint32_t n = limit < 64 ? limit : 64;
  uint64_t ptrs[64];
  uint32_t have = 0;
  for (; have < n; ++have)
    if (!read(addr + 8ull * have, &ptrs[have], 8) || !ptrs[have]) break;
  // sub 0: how many there were (and whether the array went on past them).
  size_t room;
  uint8_t* dst = w.begin(4, &room);
  if (!dst || room < 4) return;
  uint32_t more = 0;
  if (have == n) {
    uint64_t next = 0;
    more = read(addr + 8ull * have, &next, 8) && next ? 1 : 0;
  }
  uint32_t head = have | (more << 31);
  std::memcpy(dst, &head, 4);
  w.finish(arg, 0, have == 0 && !addr ? kCapFault : kCapOk, 4);
  for (uint32_t i = 0; i < have; ++i) put_string(w, arg, static_cast<int>(i + 1), ptrs[i], limit + 1, read);
}

}  // namespace

size_t run_capture(const CaptureItem* items, int n, const uint64_t (&a)[6], uint32_t limit, CaptureReader read,
                   uint8_t* area, size_t room) {
  Writer w(area, room);
  for (int i = 0; i < n; ++i) {
    const CaptureItem& it = items[i];
    uint64_t addr = a[it.arg];
    switch (it.kind) {
      case CaptureKind::kPath: put_string(w, it.arg, 0, addr, kPathMax, read); break;
      case CaptureKind::kString: put_string(w, it.arg, 0, addr, limit + 1, read); break;
      case CaptureKind::kBytes:
        if (addr) {
          // Structs whole; buffers as far as -s shows them.
          uint32_t most = limit > 256 ? limit : 256;
          put_bytes(w, it.arg, 0, addr, it.len > most ? most : it.len, read);
        }
        break;
      case CaptureKind::kIovec:
        if (addr) put_iovec(w, it, addr, limit, read);
        break;
      case CaptureKind::kStrings:
        if (addr) put_strings(w, it.arg, addr, limit, read);
        break;
      case CaptureKind::kCount:
        if (addr) put_count(w, it.arg, addr, read);
        break;
      case CaptureKind::kDirents:
        if (addr) put_dirents(w, it.arg, addr, it.len, read);
        break;
    }
  }
  return w.used();
}

}  // namespace dune::trace_wire
