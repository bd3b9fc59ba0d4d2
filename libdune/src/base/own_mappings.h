// own_mappings.h - the memory the library maps for itself on the host side.
//
// The library's own mappings (host stacks, its allocator's chunks, buffers)
// show up in /proc/self/maps like the program's. When the address space is
// re-read they must not be mirrored into the guest: they come and go without
// a forwarded syscall, and a stale mirror entry would outlive them.
#pragma once

#include <cstdint>

namespace dune::own_mappings {

// Records [start, end) as the library's; forget(start) drops it.
void add(uint64_t start, uint64_t end);
void forget(uint64_t start);
// Calls fn(start, end) for every recorded mapping. fn must not add or forget.
void for_each(void (*fn)(uint64_t start, uint64_t end, void* ctx), void* ctx);
// Held across fork.
void lock();
void unlock();

}  // namespace dune::own_mappings
