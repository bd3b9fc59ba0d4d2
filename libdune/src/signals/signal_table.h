// signal_table.h - the program's signal actions (its rt_sigaction calls), process-wide.
#pragma once

#include <signal.h>

#include <atomic>
#include <cstdint>

#include "base/spin_lock.h"

namespace dune {

// struct sigaction as the kernel's rt_sigaction takes it on x86-64.
struct KernelSigaction {
  uint64_t handler;  // SIG_DFL (0), SIG_IGN (1) or a function
  uint64_t flags;
  uint64_t restorer;
  uint64_t mask;
};
constexpr uint64_t kSaRestorer = 0x04000000;
// The action SA_RESETHAND leaves once its handler is entered: Linux resets the
// handler alone to SIG_DFL and keeps the flags (SA_SIGINFO too), mask and
// restorer, as a later sigaction() reads them back.
inline KernelSigaction reset_to_default(KernelSigaction a) {
  a.handler = 0;
  return a;
}
constexpr int kMaxSignal = 64;

inline uint64_t sigbit(int sig) { return 1ull << (sig - 1); }
// SIGKILL and SIGSTOP can be neither blocked nor caught.
constexpr uint64_t kUnblockable = (1ull << (SIGKILL - 1)) | (1ull << (SIGSTOP - 1));

class SignalTable {
 public:
  // The program's action for sig (1..64). Lock-free: a host signal handler reads it.
  KernelSigaction get(int sig) const;
  void set(int sig, const KernelSigaction& a);
  bool catches(int sig) const { return get(sig).handler > 1; }
  // Serializes changes (rt_sigaction from several threads).
  SpinLock& lock() { return lock_; }

 private:
  struct Slot {
    std::atomic<uint64_t> handler{0}, flags{0}, restorer{0}, mask{0};
  };
  Slot slots_[kMaxSignal + 1];
  SpinLock lock_;
};

SignalTable& signal_table();

}  // namespace dune
