// signal_queue.h - signals caught on the host for one guest thread, waiting to be delivered.
#pragma once

#include <signal.h>

#include <atomic>
#include <cstddef>
#include <cstdint>

// linux/signal.h's SS_AUTODISARM (glibc's headers lack it), as the int ss_flags is.
constexpr int kSsAutodisarm = static_cast<int>(1u << 31);

namespace dune {

// Filled by the host signal handler, emptied by the vCPU loop of the same
// thread, which the handler may interrupt at any point: one producer, one
// consumer, indices published with release/acquire.
//
// A signal waiting here counts as pending for the program, as in the kernel:
// the handler blocks it on the host thread while it waits ("waiting" mask),
// so that another one of the same number stays in the kernel (a standard
// signal is merged there, a real-time one queued in order) until this one is
// delivered. When the queue fills up, the thread takes no more signals at all
// ("holds": everything blocked on the host, the program's own mask kept here)
// until the loop has delivered what waits.
class SignalQueue {
 public:
  static constexpr uint32_t kCapacity = 64;

  // From the signal handler: false when full (never, while holding works).
  // blocked_for_wait: the handler blocks the signal on the host for as long
  // as it waits here (not when the program blocks it itself: a signal let in
  // by sigsuspend's temporary mask).
  bool push(const siginfo_t& info, bool blocked_for_wait) {
    uint32_t tail = idx_.tail.load(std::memory_order_relaxed);
    if (tail - idx_.head.load(std::memory_order_acquire) >= kCapacity) return false;
    slots_[tail % kCapacity] = info;
    if (blocked_for_wait) waiting_.fetch_or(bit(info.si_signo), std::memory_order_relaxed);
    idx_.tail.store(tail + 1, std::memory_order_release);
    return true;
  }
  bool full() const {
    return idx_.tail.load(std::memory_order_relaxed) - idx_.head.load(std::memory_order_acquire) >= kCapacity;
  }
  bool empty() const {
    return idx_.head.load(std::memory_order_relaxed) == idx_.tail.load(std::memory_order_acquire);
  }
  // The oldest signal; it stops counting as waiting (the caller unblocks it).
  bool pop(siginfo_t* out) {
    uint32_t head = idx_.head.load(std::memory_order_relaxed);
    if (head == idx_.tail.load(std::memory_order_acquire)) return false;
    *out = slots_[head % kCapacity];
    idx_.head.store(head + 1, std::memory_order_release);
    waiting_.fetch_and(~bit(out->si_signo), std::memory_order_relaxed);
    return true;
  }
  void clear() {
    idx_.head.store(idx_.tail.load(std::memory_order_relaxed), std::memory_order_relaxed);
    waiting_.store(0, std::memory_order_relaxed);
    holding_.store(false, std::memory_order_relaxed);
  }
  // The signals waiting here that are blocked on the host for that reason only.
  uint64_t waiting() const { return waiting_.load(std::memory_order_relaxed); }

  // Holding: from the handler that filled the queue, with the program's mask
  // at that moment; ended by the loop (release_held_signals). While it holds,
  // the program's mask lives here, not in the host thread's.
  void hold(uint64_t program_mask) {
    held_mask_ = program_mask;
    holding_.store(true, std::memory_order_release);
  }
  bool holding() const { return holding_.load(std::memory_order_acquire); }
  uint64_t held_mask() const { return held_mask_; }
  void set_held_mask(uint64_t mask) { held_mask_ = mask; }
  void end_hold() { holding_.store(false, std::memory_order_release); }

  // The two indices, head then tail: the forwarding stub (forward.S) compares
  // them right before the program's syscall, to start it only with nothing here.
  struct Indices {
    std::atomic<uint32_t> head{0};
    std::atomic<uint32_t> tail{0};
  };
  const Indices* indices() const { return &idx_; }

 private:
  static uint64_t bit(int sig) { return 1ull << (sig - 1); }
  siginfo_t slots_[kCapacity];
  Indices idx_;
  std::atomic<uint64_t> waiting_{0};
  std::atomic<bool> holding_{false};
  uint64_t held_mask_ = 0;
};
static_assert(sizeof(std::atomic<uint32_t>) == 4 && offsetof(SignalQueue::Indices, tail) == 4,
              "forward.S reads head at 0 and tail at 4");

// The guest thread's sigaltstack, kept by the library (the host thread runs
// its own code on its own stacks).
// The least sigaltstack() takes: the kernel's MINSIGSTKSZ on x86-64. Not
// glibc's macro, which under _GNU_SOURCE is sysconf(_SC_SIGSTKSZ) (13,504 on
// an AVX-512 host) and would refuse stacks Linux takes (LTP sigaltstack01).
constexpr uint64_t kKernelMinSigStackSize = 2048;

struct AltStack {
  uint64_t sp = 0;
  uint64_t size = 0;
  int flags = SS_DISABLE;  // SS_DISABLE, or 0 / kSsAutodisarm as the program gave
  // On it, as Linux's on_sig_stack: never with kSsAutodisarm (the stack is
  // disarmed while a handler uses it).
  bool contains(uint64_t rsp) const {
    return !(flags & (SS_DISABLE | kSsAutodisarm)) && rsp > sp && rsp - sp <= size;
  }
};

}  // namespace dune
