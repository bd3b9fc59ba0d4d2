// signal_queue.h - signals caught on the host for one guest thread, waiting to be delivered.
#pragma once

#include <signal.h>

#include <atomic>
#include <cstdint>

// linux/signal.h's SS_AUTODISARM (glibc's headers lack it), as the int ss_flags is.
constexpr int kSsAutodisarm = static_cast<int>(1u << 31);

namespace dune {

// Filled by the host signal handler, emptied by the vCPU loop of the same
// thread, which the handler may interrupt at any point: one producer, one
// consumer, indices published with release/acquire.
class SignalQueue {
 public:
  static constexpr uint32_t kCapacity = 64;

  // From the signal handler. False when full (the signal is then re-queued to
  // the kernel by the caller, which keeps it pending there).
  bool push(const siginfo_t& info) {
    uint32_t tail = tail_.load(std::memory_order_relaxed);
    if (tail - head_.load(std::memory_order_acquire) >= kCapacity) return false;
    slots_[tail % kCapacity] = info;
    tail_.store(tail + 1, std::memory_order_release);
    return true;
  }
  bool empty() const {
    return head_.load(std::memory_order_relaxed) == tail_.load(std::memory_order_acquire);
  }
  bool pop(siginfo_t* out) {
    uint32_t head = head_.load(std::memory_order_relaxed);
    if (head == tail_.load(std::memory_order_acquire)) return false;
    *out = slots_[head % kCapacity];
    head_.store(head + 1, std::memory_order_release);
    return true;
  }
  void clear() { head_.store(tail_.load(std::memory_order_relaxed), std::memory_order_relaxed); }

 private:
  siginfo_t slots_[kCapacity];
  std::atomic<uint32_t> head_{0};
  std::atomic<uint32_t> tail_{0};
};

// The guest thread's sigaltstack, kept by the library (the host thread runs
// its own code on its own stacks).
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
