#include "runtime/trap_handlers.h"

#include <atomic>
#include <cerrno>

#include "base/log.h"

namespace dune {

namespace detail {
std::atomic<dune_intr_cb> g_intr_handlers[256];
std::atomic<dune_pgflt_cb> g_pgflt_handler{nullptr};
}  // namespace detail

int set_intr_handler(int vector, dune_intr_cb cb) {
  if (vector < 0 || vector > 255) {
    log::error("dune_register_intr_handler: vector {} is out of range (0..255)", vector);
    return -EINVAL;
  }
  if (!cb) {
    log::error("dune_register_intr_handler: the handler for vector {} is NULL", vector);
    return -EINVAL;
  }
  detail::g_intr_handlers[vector].store(cb, std::memory_order_release);
  return 0;
}

int set_pgflt_handler(dune_pgflt_cb cb) {
  if (!cb) {
    log::error("dune_register_pgflt_handler: the handler is NULL");
    return -EINVAL;
  }
  detail::g_pgflt_handler.store(cb, std::memory_order_release);
  return 0;
}

}  // namespace dune
