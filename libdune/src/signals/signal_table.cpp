#include "signals/signal_table.h"

namespace dune {

KernelSigaction SignalTable::get(int sig) const {
  if (sig < 1 || sig > kMaxSignal) return {};
  const Slot& s = slots_[sig];
  return KernelSigaction{s.handler.load(std::memory_order_acquire), s.flags.load(std::memory_order_relaxed),
                         s.restorer.load(std::memory_order_relaxed), s.mask.load(std::memory_order_relaxed)};
}

void SignalTable::set(int sig, const KernelSigaction& a) {
  if (sig < 1 || sig > kMaxSignal) return;
  Slot& s = slots_[sig];
  s.flags.store(a.flags, std::memory_order_relaxed);
  s.restorer.store(a.restorer, std::memory_order_relaxed);
  s.mask.store(a.mask, std::memory_order_relaxed);
  s.handler.store(a.handler, std::memory_order_release);
}

SignalTable& signal_table() {
  static SignalTable table;
  return table;
}

}  // namespace dune
