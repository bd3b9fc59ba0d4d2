#include "monitor/tlb_gate.h"

#include <atomic>

#include "monitor/ports.h"

namespace dune {

namespace {
// In the library's own data, which the guest maps (the host arena it does not).
std::atomic<bool> g_allowed{false};
}  // namespace

void allow_guest_tlb_flush(bool allowed) { g_allowed.store(allowed, std::memory_order_release); }
bool guest_tlb_flush_allowed() { return g_allowed.load(std::memory_order_acquire); }

bool guest_tlb_flush(uint64_t page) {
  if (!guest_tlb_flush_allowed()) return false;
  __asm__ volatile("int %[v]" : "+D"(page) : [v] "i"(DUNE_VECTOR_TLB_FLUSH) : "rax", "memory");
  return true;
}

}  // namespace dune
