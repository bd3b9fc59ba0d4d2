#include "debug/target_memory.h"

#include <link.h>
#include <sys/uio.h>

#include <atomic>
#include <cstring>
#include <mutex>

#include "base/own_fds.h"
#include "base/raw_syscall.h"
#include "base/spin_lock.h"

namespace dune::debug {

namespace {

constexpr int kMaxBreakpoints = 256;
struct Breakpoint {
  uint64_t addr;
  uint8_t saved;
};
Breakpoint g_bps[kMaxBreakpoints];
int g_bp_count = 0;
SpinLock g_bp_lock;
int g_mem_fd = -1;  // the library's number (own_fds)
uint64_t g_lib_lo = 0, g_lib_hi = 0;

bool in_library(uint64_t addr) { return addr >= g_lib_lo && addr < g_lib_hi; }

}  // namespace

bool open_target_memory() {
  close_target_memory();
  long fd = sys::open("/proc/thread-self/mem", O_RDWR | O_CLOEXEC);
  if (fd < 0) return false;
  g_mem_fd = own_fds::adopt(static_cast<int>(fd));
  return true;
}

void close_target_memory() {
  if (g_mem_fd < 0) return;
  own_fds::close(g_mem_fd);
  g_mem_fd = -1;
}

size_t read_target(uint64_t addr, void* buf, size_t n) {
  // Page by page: a read that crosses into an unmapped page returns what came before it.
  size_t done = 0;
  while (done < n) {
    size_t chunk = 4096 - ((addr + done) & 4095);
    if (chunk > n - done) chunk = n - done;
    iovec local{static_cast<uint8_t*>(buf) + done, chunk};
    iovec remote{reinterpret_cast<void*>(addr + done), chunk};
    long r = sys::syscall6(SYS_process_vm_readv, sys::gettid(), reinterpret_cast<long>(&local), 1,
                           reinterpret_cast<long>(&remote), 1, 0);
    if (r <= 0) break;
    done += static_cast<size_t>(r);
    if (static_cast<size_t>(r) < chunk) break;
  }
  return done;
}

size_t write_target(uint64_t addr, const void* buf, size_t n) {
  if (g_mem_fd < 0) return 0;
  // /proc/PID/mem writes as ptrace pokes: through read-only code pages (a
  // private copy of the page, which KVM's view follows).
  long r = sys::syscall6(SYS_pwrite64, own_fds::current(g_mem_fd), reinterpret_cast<long>(buf),
                         static_cast<long>(n), static_cast<long>(addr));
  return r > 0 ? static_cast<size_t>(r) : 0;
}

void find_library_code() {
  struct Ctx {
    uint64_t self, lo, hi;
  } c{reinterpret_cast<uint64_t>(&find_library_code), 0, 0};
  dl_iterate_phdr(
      [](dl_phdr_info* info, size_t, void* p) -> int {
        auto* c = static_cast<Ctx*>(p);
        if (!info->dlpi_name || !info->dlpi_name[0]) return 0;  // the executable: a static library is in it
        uint64_t lo = ~0ull, hi = 0;
        for (int i = 0; i < info->dlpi_phnum; ++i) {
          const ElfW(Phdr)& ph = info->dlpi_phdr[i];
          if (ph.p_type != PT_LOAD) continue;
          uint64_t start = info->dlpi_addr + ph.p_vaddr;
          if (start < lo) lo = start;
          if (start + ph.p_memsz > hi) hi = start + ph.p_memsz;
        }
        if (c->self < lo || c->self >= hi) return 0;
        c->lo = lo;
        c->hi = hi;
        return 1;
      },
      &c);
  g_lib_lo = c.lo;
  g_lib_hi = c.hi;
}

bool insert_breakpoint(uint64_t addr) {
  if (in_library(addr)) return true;
  std::lock_guard<SpinLock> g(g_bp_lock);
  for (int i = 0; i < g_bp_count; ++i)
    if (g_bps[i].addr == addr) return true;
  if (g_bp_count == kMaxBreakpoints) return false;
  uint8_t saved;
  if (read_target(addr, &saved, 1) != 1) return false;
  const uint8_t int3 = 0xcc;
  if (write_target(addr, &int3, 1) != 1) return false;
  g_bps[g_bp_count++] = Breakpoint{addr, saved};
  return true;
}

bool remove_breakpoint(uint64_t addr) {
  std::lock_guard<SpinLock> g(g_bp_lock);
  for (int i = 0; i < g_bp_count; ++i) {
    if (g_bps[i].addr != addr) continue;
    bool ok = write_target(addr, &g_bps[i].saved, 1) == 1;
    g_bps[i] = g_bps[--g_bp_count];
    return ok;
  }
  return true;  // gdb may remove one twice
}

bool is_breakpoint(uint64_t addr) {
  std::lock_guard<SpinLock> g(g_bp_lock);
  for (int i = 0; i < g_bp_count; ++i)
    if (g_bps[i].addr == addr) return true;
  return false;
}

bool lift_breakpoint(uint64_t addr) {
  std::lock_guard<SpinLock> g(g_bp_lock);
  for (int i = 0; i < g_bp_count; ++i)
    if (g_bps[i].addr == addr) return write_target(addr, &g_bps[i].saved, 1) == 1;
  return false;
}

void reinsert_breakpoint(uint64_t addr) {
  std::lock_guard<SpinLock> g(g_bp_lock);
  const uint8_t int3 = 0xcc;
  for (int i = 0; i < g_bp_count; ++i)
    if (g_bps[i].addr == addr) write_target(addr, &int3, 1);
}

void remove_all_breakpoints() {
  std::lock_guard<SpinLock> g(g_bp_lock);
  for (int i = 0; i < g_bp_count; ++i) write_target(g_bps[i].addr, &g_bps[i].saved, 1);
  g_bp_count = 0;
}

void hide_breakpoints(uint64_t addr, void* buf, size_t n) {
  std::lock_guard<SpinLock> g(g_bp_lock);
  for (int i = 0; i < g_bp_count; ++i)
    if (g_bps[i].addr >= addr && g_bps[i].addr < addr + n)
      static_cast<uint8_t*>(buf)[g_bps[i].addr - addr] = g_bps[i].saved;
}

}  // namespace dune::debug
