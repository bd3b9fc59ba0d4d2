// thread_registry.h - which guest thread a host stack belongs to.
//
// The host side of a guest thread always runs on its own host stack, so a host
// signal handler finds its thread from its stack pointer. Thread-local storage
// would not do: a thread created with CLONE_VM but no CLONE_SETTLS (vfork,
// posix_spawn, some runtimes) shares its parent's TLS.
#pragma once

#include <cstdint>

namespace dune {

class GuestThread;

void register_host_stack(uint64_t lo, uint64_t hi, GuestThread* t);
void unregister_host_stack(GuestThread* t);
// The thread whose host stack holds sp, or nullptr. Async-signal-safe.
GuestThread* thread_on_host_stack(uint64_t sp);
// Calls fn(t, ctx) for every registered thread.
void for_each_registered(void (*fn)(GuestThread* t, void* ctx), void* ctx);
// In a forked child: forgets every thread but `keep`.
void keep_only_host_stack(GuestThread* keep);

}  // namespace dune
