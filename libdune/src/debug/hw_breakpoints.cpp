#include "debug/hw_breakpoints.h"

#include <linux/kvm.h>

#include <atomic>
#include <cerrno>
#include <mutex>

#include "base/log.h"
#include "base/spin_lock.h"
#include "runtime/guest_thread.h"

namespace dune::debug {

namespace {

struct Slot {
  bool used = false;
  HwKind kind = HwKind::kExec;
  uint64_t addr = 0;
  uint64_t len = 1;
};
Slot g_slots[4];
SpinLock g_lock;
std::atomic<uint32_t> g_generation{0};
std::atomic<bool> g_unsupported{false};

// DR7's R/W field: 00 execute, 01 write, 11 read or write (x86 has no
// read-only watch: gdb checks the value for rwatch itself).
uint64_t rw_bits(HwKind k) {
  switch (k) {
    case HwKind::kExec: return 0;
    case HwKind::kWrite: return 1;
    default: return 3;
  }
}

// DR7's LEN field: 00 one byte, 01 two, 11 four, 10 eight.
uint64_t len_bits(uint64_t len) {
  switch (len) {
    case 2: return 1;
    case 4: return 3;
    case 8: return 2;
    default: return 0;
  }
}

}  // namespace

void fill_guest_debug(kvm_guest_debug* d) {
  std::lock_guard<SpinLock> g(g_lock);
  *d = kvm_guest_debug{};
  uint64_t dr7 = 0x400;  // bit 10 always reads 1
  for (int i = 0; i < 4; ++i) {
    if (!g_slots[i].used) continue;
    d->arch.debugreg[i] = g_slots[i].addr;
    dr7 |= 1ull << (2 * i);  // L<i>
    uint64_t field = rw_bits(g_slots[i].kind) | (g_slots[i].kind == HwKind::kExec ? 0 : len_bits(g_slots[i].len) << 2);
    dr7 |= field << (16 + 4 * i);
  }
  d->arch.debugreg[7] = dr7;
  if (dr7 != 0x400) d->control = KVM_GUESTDBG_ENABLE | KVM_GUESTDBG_USE_HW_BP;
}

void set_hw_supported(bool on) { g_unsupported.store(!on); }

int insert_hw(HwKind kind, uint64_t addr, uint64_t len) {
  if (g_unsupported.load()) return -ENOTSUP;
  if (kind == HwKind::kExec) len = 1;
  if ((len != 1 && len != 2 && len != 4 && len != 8) || (addr & (len - 1))) return -EINVAL;
  std::lock_guard<SpinLock> g(g_lock);
  for (Slot& s : g_slots)
    if (s.used && s.kind == kind && s.addr == addr && s.len == len) return 0;
  for (Slot& s : g_slots) {
    if (s.used) continue;
    s = Slot{true, kind, addr, len};
    g_generation.fetch_add(1);
    return 0;
  }
  return -ENOSPC;
}

int remove_hw(HwKind kind, uint64_t addr, uint64_t len) {
  if (kind == HwKind::kExec) len = 1;
  std::lock_guard<SpinLock> g(g_lock);
  for (Slot& s : g_slots) {
    if (s.used && s.kind == kind && s.addr == addr && s.len == len) {
      s = Slot{};
      g_generation.fetch_add(1);
    }
  }
  return 0;
}

void remove_all_hw() {
  std::lock_guard<SpinLock> g(g_lock);
  for (Slot& s : g_slots) s = Slot{};
  g_generation.fetch_add(1);
}

uint32_t hw_generation() { return g_generation.load(std::memory_order_relaxed); }

void sync_hw_breakpoints(GuestThread& t) {
  uint32_t gen = hw_generation();
  kvm_guest_debug d;
  fill_guest_debug(&d);
  Status s = t.vcpu().set_guest_debug(d);
  if (!s && d.control) log::warn("gdb: hardware breakpoints on thread {}: {}", t.tid(), log::errno_name(s.error()));
  t.debug().hw_gen = gen;
}

bool hw_hit(uint64_t dr6, HwKind* kind, uint64_t* addr) {
  std::lock_guard<SpinLock> g(g_lock);
  for (int i = 0; i < 4; ++i) {
    if (!(dr6 & (1ull << i)) || !g_slots[i].used) continue;
    *kind = g_slots[i].kind;
    *addr = g_slots[i].addr;
    return true;
  }
  return false;
}

}  // namespace dune::debug
