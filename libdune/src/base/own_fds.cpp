#include "base/own_fds.h"

#include <fcntl.h>
#include <sys/resource.h>

#include <atomic>
#include <climits>
#include <mutex>

#include "base/raw_syscall.h"
#include "base/spin_lock.h"

namespace dune::own_fds {

namespace {
// Names and current numbers; a handful of entries (device, VM, one per vCPU,
// log), searched linearly.
constexpr int kCapacity = 8192;
struct Entry {
  std::atomic<int> name{-1};
  std::atomic<int> now{-1};
  std::atomic<bool> parents{false};  // the parent's, in a shared table
};
Entry g_entries[kCapacity];
std::atomic<int> g_used{0};
SpinLock g_lock;
std::atomic<bool> g_shares_table{false};

// How far above the program's soft limit the library's numbers may go.
constexpr uint64_t kRoom = 4096;
// Above this soft limit the kernel's table would grow too far (8 bytes a
// number, copied at every fork) for the few descriptors the library has.
constexpr uint64_t kHighestBase = 100000;

// The Headroom: held by one thread at a time (recursively), which raised the
// soft limit from g_program_limit (the program's).
std::atomic<long> g_room_owner{0};
int g_room_depth = 0;
rlimit64 g_program_limit{};
bool g_room_raised = false;

rlimit64 nofile_limit() {
  rlimit64 rl{};
  if (sys::syscall6(SYS_prlimit64, 0, RLIMIT_NOFILE, 0, reinterpret_cast<long>(&rl)) != 0) {
    rl.rlim_cur = rl.rlim_max = 1024;
  }
  return rl;
}

void set_nofile_limit(const rlimit64& rl) {
  sys::syscall6(SYS_prlimit64, 0, RLIMIT_NOFILE, reinterpret_cast<long>(&rl), 0);
}

// Where the hard limit leaves no room above the soft one: below the soft
// limit, out of the low numbers programs pick.
int fallback_base(uint64_t soft) {
  uint64_t base = soft * 3 / 4;
  return base > 64 ? static_cast<int>(base > kHighestBase ? kHighestBase : base) : 64;
}

// A number at or above the program's soft limit for fd, or -errno.
long move_above_program(int fd) {
  Headroom room;
  long moved = -EMFILE;
  if (g_room_raised && g_program_limit.rlim_cur <= kHighestBase)
    moved = sys::syscall6(SYS_fcntl, fd, F_DUPFD_CLOEXEC, static_cast<long>(g_program_limit.rlim_cur));
  if (moved < 0)
    moved = sys::syscall6(SYS_fcntl, fd, F_DUPFD_CLOEXEC, fallback_base(g_program_limit.rlim_cur));
  return moved;
}
}  // namespace

Headroom::Headroom() {
  long self = sys::gettid();
  if (g_room_owner.load(std::memory_order_acquire) != self) {
    long none = 0;
    while (!g_room_owner.compare_exchange_weak(none, self, std::memory_order_acquire)) {
      none = 0;
      sys::syscall6(SYS_sched_yield);
    }
  }
  if (g_room_depth++ > 0) return;
  g_program_limit = nofile_limit();
  g_room_raised = false;
  if (g_program_limit.rlim_max > g_program_limit.rlim_cur) {
    rlimit64 raised = g_program_limit;
    uint64_t room = g_program_limit.rlim_max - g_program_limit.rlim_cur;
    raised.rlim_cur += room < kRoom ? room : kRoom;
    set_nofile_limit(raised);
    g_room_raised = true;
  }
}

Headroom::~Headroom() {
  if (--g_room_depth > 0) return;
  if (g_room_raised) set_nofile_limit(g_program_limit);
  g_room_raised = false;
  g_room_owner.store(0, std::memory_order_release);
}

namespace {
std::atomic<int> g_lowest{INT_MAX};

// After any change, under g_lock.
void recompute_lowest() {
  int used = g_used.load(std::memory_order_relaxed), low = INT_MAX;
  for (int i = 0; i < used; ++i) {
    if (g_entries[i].name.load(std::memory_order_relaxed) < 0) continue;
    int now = g_entries[i].now.load(std::memory_order_relaxed);
    if (now < low) low = now;
  }
  g_lowest.store(low, std::memory_order_release);
}

Entry* find_name(int name) {
  int used = g_used.load(std::memory_order_acquire);
  for (int i = 0; i < used; ++i)
    if (g_entries[i].name.load(std::memory_order_relaxed) == name) return &g_entries[i];
  return nullptr;
}

Entry* find_now(int fd) {
  int used = g_used.load(std::memory_order_acquire);
  for (int i = 0; i < used; ++i)
    if (g_entries[i].name.load(std::memory_order_relaxed) >= 0 &&
        g_entries[i].now.load(std::memory_order_relaxed) == fd)
      return &g_entries[i];
  return nullptr;
}
}  // namespace

namespace {

// A number no entry answers to by name. An entry the program's dup2 evicted
// keeps its first number as its name while it lives elsewhere; that number
// is free and may come back from F_DUPFD, and a second entry of that name
// would make current() answer for the wrong descriptor (a fork child's new
// VM taken for the device it replaced: KVM ioctls failing with ENOTTY).
int unclaimed_number(int fd) {
  for (int tries = 0; tries < 64; ++tries) {
    {
      std::lock_guard<SpinLock> g(g_lock);
      if (!find_name(fd)) return fd;
    }
    Headroom room;
    long next = sys::syscall6(SYS_fcntl, fd, F_DUPFD_CLOEXEC, fd + 1);
    if (next < 0) return fd;  // kept where it is: better than losing it
    sys::close(fd);
    fd = static_cast<int>(next);
  }
  return fd;
}

}  // namespace

int adopt(int fd) {
  long moved = move_above_program(fd);
  if (moved >= 0) {
    sys::close(fd);
  } else {
    moved = fd;
    sys::syscall6(SYS_fcntl, fd, F_SETFD, FD_CLOEXEC);
  }
  moved = unclaimed_number(static_cast<int>(moved));
  std::lock_guard<SpinLock> g(g_lock);
  int used = g_used.load(std::memory_order_relaxed);
  for (int i = 0; i <= used && i < kCapacity; ++i) {
    if (g_entries[i].name.load(std::memory_order_relaxed) >= 0) continue;
    g_entries[i].now.store(static_cast<int>(moved), std::memory_order_relaxed);
    g_entries[i].parents.store(false, std::memory_order_relaxed);
    g_entries[i].name.store(static_cast<int>(moved), std::memory_order_release);
    if (i == used) g_used.store(used + 1, std::memory_order_release);
    break;
  }
  recompute_lowest();
  return static_cast<int>(moved);
}

void close(int name) {
  int now = -1;
  {
    std::lock_guard<SpinLock> g(g_lock);
    Entry* e = find_name(name);
    if (!e) {
      now = name;
    } else if (!e->parents.load(std::memory_order_relaxed)) {
      now = e->now.load(std::memory_order_relaxed);
      e->name.store(-1, std::memory_order_release);
      recompute_lowest();
    }
  }
  if (now >= 0) sys::close(now);
}

int current(int name) {
  Entry* e = find_name(name);
  return e ? e->now.load(std::memory_order_relaxed) : name;
}

bool owns(int fd) { return fd >= g_lowest.load(std::memory_order_acquire) && find_now(fd) != nullptr; }

int lowest() { return g_lowest.load(std::memory_order_acquire); }

int evict(int fd) {
  if (!owns(fd)) return 0;
  // Moved outside g_lock: a Headroom is taken before g_lock everywhere.
  long moved = move_above_program(fd);
  if (moved < 0) return static_cast<int>(moved);
  std::lock_guard<SpinLock> g(g_lock);
  Entry* e = find_now(fd);
  if (!e) {
    sys::close(static_cast<int>(moved));
    return 0;
  }
  // The program's dup2 replaces (and so closes) the old number.
  e->now.store(static_cast<int>(moved), std::memory_order_release);
  recompute_lowest();
  return 0;
}

void for_each(void (*fn)(int fd, void* ctx), void* ctx) {
  int fds[kCapacity];
  int n = 0;
  {
    std::lock_guard<SpinLock> g(g_lock);
    int used = g_used.load(std::memory_order_relaxed);
    for (int i = 0; i < used; ++i)
      if (g_entries[i].name.load(std::memory_order_relaxed) >= 0) fds[n++] = g_entries[i].now.load();
  }
  for (int i = 1; i < n; ++i)
    for (int j = i; j > 0 && fds[j - 1] > fds[j]; --j) {
      int tmp = fds[j];
      fds[j] = fds[j - 1];
      fds[j - 1] = tmp;
    }
  for (int i = 0; i < n; ++i) fn(fds[i], ctx);
}

void share_parents_table() {
  std::lock_guard<SpinLock> g(g_lock);
  int used = g_used.load(std::memory_order_relaxed);
  for (int i = 0; i < used; ++i) g_entries[i].parents.store(true, std::memory_order_relaxed);
  g_shares_table.store(true, std::memory_order_release);
}

bool shares_parents_table() { return g_shares_table.load(std::memory_order_acquire); }

void close_own() {
  std::lock_guard<SpinLock> g(g_lock);
  int used = g_used.load(std::memory_order_relaxed);
  for (int i = 0; i < used; ++i) {
    Entry& e = g_entries[i];
    if (e.name.load(std::memory_order_relaxed) < 0 || e.parents.load(std::memory_order_relaxed)) continue;
    sys::close(e.now.load(std::memory_order_relaxed));
    e.name.store(-1, std::memory_order_release);
  }
  recompute_lowest();
}

void after_fork() {
  long owner = g_room_owner.load(std::memory_order_acquire);
  if (owner == 0 || owner == sys::gettid()) return;
  // Another thread of the parent was opening a descriptor: this process got
  // its raised limit, and the lock of a thread it does not have.
  if (g_room_raised) set_nofile_limit(g_program_limit);
  g_room_raised = false;
  g_room_depth = 0;
  g_room_owner.store(0, std::memory_order_release);
}

}  // namespace dune::own_fds
