// host_arena.h - memory for the library's own containers, never from malloc.
//
// The host side of a thread runs while the guest side of the same thread may be
// inside malloc (malloc calls mmap, brk and mprotect, which exit to the host
// with the arena lock held). Host code that called malloc there would deadlock,
// so every container the host side touches allocates from this resource.
#pragma once

#include <memory_resource>

namespace dune {

// Size classes from 16 to 2048 bytes carved from mmap'd chunks; larger blocks
// are mmap'd on their own. Thread-safe.
std::pmr::memory_resource* host_arena();
// Held across fork, so that the child's copy is consistent.
void host_arena_lock();
void host_arena_unlock();

}  // namespace dune
