// entry_context.h - what dune_enter (entry.S) saves for the guest to resume with.
#pragma once

#include <cstddef>
#include <cstdint>

namespace dune {

struct EntryContext {
  uint64_t rbx, rbp, r12, r13, r14, r15;
  uint64_t rsp;     // after dune_enter returns
  uint64_t rip;     // dune_enter's return address
  uint64_t rflags;
};
static_assert(sizeof(EntryContext) == 72, "entry.S lays it out");

}  // namespace dune

extern "C" {
[[noreturn]] void dune_run_on_stack(void* top, void (*fn)(void*), void* arg);
[[noreturn]] void dune_unmap_and_exit(void* stack, size_t len, int status);
}
