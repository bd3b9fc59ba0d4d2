// events.h - emitting the event stream: one predictable branch when nobody listens.
#pragma once

#include <dune/trace.h>

#include <atomic>
#include <cstdint>

namespace dune::trace {

// The kinds someone listens to; 0 almost always.
extern std::atomic<uint32_t> g_mask;

inline bool wanted(uint32_t kind) {
  return __builtin_expect(g_mask.load(std::memory_order_relaxed) & kind, 0) != 0;
}

// Whether the listener reads the events' registers (DUNE_EV_NO_REGS: not).
extern std::atomic<bool> g_regs_wanted;
inline bool regs_wanted() { return g_regs_wanted.load(std::memory_order_relaxed); }

// Syscall numbers whose entry the listener wants (dune_set_syscall_entries).
constexpr int kEntryWords = 16;
extern std::atomic<uint64_t> g_entries[kEntryWords];
inline bool entry_wanted(long nr) {
  return static_cast<unsigned long>(nr) < 64ul * kEntryWords &&
         ((g_entries[nr / 64].load(std::memory_order_relaxed) >> (nr % 64)) & 1);
}
int set_syscall_entries(const uint64_t* words, unsigned n_words);

// Sends ev to the listener (fills tsc, and pid and tid unless the caller did).
void emit(dune_event& ev);

inline uint64_t rdtsc() {
  uint32_t lo, hi;
  asm volatile("rdtsc" : "=a"(lo), "=d"(hi));
  return (static_cast<uint64_t>(hi) << 32) | lo;
}

int set_listener(dune_event_fn fn, void* ctx, uint32_t mask);

// DUNE_EV_THREAD events. A task started: a thread, or a process (its first
// thread: the task whose tid is its pid) with its parent.
void emit_task_start();
// A thread or (process) the whole process ended: exit status, or killed by signo.
void emit_task_end(bool process, int status, int signo);
// DUNE_EV_EXEC: execve(at) nr with args is about to replace the image.
void emit_exec(long nr, const uint64_t (&args)[6]);

}  // namespace dune::trace
