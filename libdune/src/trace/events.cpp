#include "trace/events.h"

#include <cerrno>

#include "base/raw_syscall.h"
#include "base/spin_lock.h"

namespace dune::trace {

// The event is part of the ABI: its union may grow only within these bytes.
static_assert(sizeof(dune_event) == 104, "struct dune_event changed size");

std::atomic<uint32_t> g_mask{0};
std::atomic<bool> g_regs_wanted{true};
std::atomic<uint64_t> g_entries[kEntryWords] = {};

namespace {
struct Listener {
  dune_event_fn fn = nullptr;
  void* ctx = nullptr;
};
std::atomic<Listener*> g_listener{nullptr};
// Two slots so that a new listener never overwrites one being called.
Listener g_slots[2];
SpinLock g_set_lock;
int g_next_slot = 0;
}  // namespace

void emit(dune_event& ev) {
  Listener* l = g_listener.load(std::memory_order_acquire);
  if (!l || !l->fn) return;
  // Callers that know the thread fill these in (a syscall's); others ask.
  if (!ev.tid) {
    ev.pid = static_cast<int32_t>(sys::getpid());
    ev.tid = static_cast<int32_t>(sys::gettid());
  }
  if (!ev.tsc) ev.tsc = rdtsc();
  l->fn(&ev, l->ctx);
}

void emit_task_start() {
  dune_event ev{};
  ev.kind = DUNE_EV_THREAD;
  ev.u.thread.started = 1;
  ev.u.thread.process = sys::getpid() == sys::gettid();
  if (ev.u.thread.process) ev.u.thread.ppid = static_cast<int32_t>(sys::syscall6(SYS_getppid));
  emit(ev);
}

void emit_task_end(bool process, int status, int signo) {
  dune_event ev{};
  ev.kind = DUNE_EV_THREAD;
  ev.u.thread.process = process;
  ev.u.thread.status = status;
  ev.u.thread.signo = signo;
  emit(ev);
}

void emit_exec(long nr, const uint64_t (&args)[6]) {
  dune_event ev{};
  ev.kind = DUNE_EV_EXEC;
  ev.u.syscall.nr = nr;
  for (int i = 0; i < 6; ++i) ev.u.syscall.args[i] = args[i];
  emit(ev);
}

int set_syscall_entries(const uint64_t* words, unsigned n_words) {
  if (n_words > kEntryWords) return -EINVAL;
  if (n_words && !words) return -EINVAL;
  for (unsigned i = 0; i < kEntryWords; ++i)
    g_entries[i].store(i < n_words ? words[i] : 0, std::memory_order_relaxed);
  return 0;
}

int set_listener(dune_event_fn fn, void* ctx, uint32_t mask) {
  g_set_lock.lock();
  if (!fn) {
    g_mask.store(0, std::memory_order_relaxed);
    g_listener.store(nullptr, std::memory_order_release);
  } else {
    Listener& slot = g_slots[g_next_slot];
    g_next_slot ^= 1;
    slot.fn = fn;
    slot.ctx = ctx;
    g_listener.store(&slot, std::memory_order_release);
    g_regs_wanted.store(!(mask & DUNE_EV_NO_REGS), std::memory_order_relaxed);
    g_mask.store(mask & DUNE_EV_ALL, std::memory_order_relaxed);
  }
  g_set_lock.unlock();
  return 0;
}

}  // namespace dune::trace
