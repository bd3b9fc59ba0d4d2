#include "base/own_fds.h"

#include <fcntl.h>
#include <sys/resource.h>

#include <atomic>
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
};
Entry g_entries[kCapacity];
std::atomic<int> g_used{0};
SpinLock g_lock;

// Below the soft RLIMIT_NOFILE, out of the low numbers programs pick.
int high_base() {
  rlimit64 rl{};
  if (sys::syscall6(SYS_prlimit64, 0, RLIMIT_NOFILE, 0, reinterpret_cast<long>(&rl)) != 0) return 256;
  long base = static_cast<long>(rl.rlim_cur) * 3 / 4;
  return base > 64 ? static_cast<int>(base > 100000 ? 100000 : base) : 64;
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

int adopt(int fd) {
  int moved = static_cast<int>(sys::syscall6(SYS_fcntl, fd, F_DUPFD_CLOEXEC, high_base()));
  if (moved >= 0) {
    sys::close(fd);
  } else {
    moved = fd;
    sys::syscall6(SYS_fcntl, fd, F_SETFD, FD_CLOEXEC);
  }
  std::lock_guard<SpinLock> g(g_lock);
  int used = g_used.load(std::memory_order_relaxed);
  for (int i = 0; i <= used && i < kCapacity; ++i) {
    if (g_entries[i].name.load(std::memory_order_relaxed) >= 0) continue;
    g_entries[i].now.store(moved, std::memory_order_relaxed);
    g_entries[i].name.store(moved, std::memory_order_release);
    if (i == used) g_used.store(used + 1, std::memory_order_release);
    break;
  }
  return moved;
}

void forget(int name) {
  std::lock_guard<SpinLock> g(g_lock);
  if (Entry* e = find_name(name)) e->name.store(-1, std::memory_order_release);
}

int current(int name) {
  Entry* e = find_name(name);
  return e ? e->now.load(std::memory_order_relaxed) : name;
}

bool owns(int fd) { return fd >= 0 && find_now(fd) != nullptr; }

int evict(int fd) {
  std::lock_guard<SpinLock> g(g_lock);
  Entry* e = find_now(fd);
  if (!e) return 0;
  int moved = static_cast<int>(sys::syscall6(SYS_fcntl, fd, F_DUPFD_CLOEXEC, high_base()));
  if (moved < 0) return moved;
  // The program's dup2 replaces (and so closes) the old number.
  e->now.store(moved, std::memory_order_release);
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

}  // namespace dune::own_fds
