// trap_handlers.h - the program's Dune trap handlers (dune_register_*_handler).
// The readers are inline: guest ring 0 (monitor/exception_gate.cpp) reads the
// same table, compiled its own way.
#pragma once

#include <dune/dune.h>

#include <atomic>

namespace dune {

namespace detail {
extern std::atomic<dune_intr_cb> g_intr_handlers[256];
extern std::atomic<dune_pgflt_cb> g_pgflt_handler;
}  // namespace detail

inline dune_intr_cb intr_handler(int vector) {
  if (vector < 0 || vector > 255) return nullptr;
  return detail::g_intr_handlers[vector].load(std::memory_order_acquire);
}
inline dune_pgflt_cb pgflt_handler() { return detail::g_pgflt_handler.load(std::memory_order_acquire); }

int set_intr_handler(int vector, dune_intr_cb cb);
int set_pgflt_handler(dune_pgflt_cb cb);

}  // namespace dune
