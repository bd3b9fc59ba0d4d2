// target_memory.h - the program's memory as a debugger reads and writes it
// (past page protections, as ptrace does), and gdb's software breakpoints.
#pragma once

#include <cstddef>
#include <cstdint>

namespace dune::debug {

// Opens /proc/thread-self/mem for writing (from the thread that will write).
bool open_target_memory();
void close_target_memory();
// Bytes read or written (short at an unmapped page); never faults.
size_t read_target(uint64_t addr, void* buf, size_t n);
size_t write_target(uint64_t addr, const void* buf, size_t n);

// The library's own code, when it is a shared object of its own (the shim):
// it runs on the host side of every thread, where an int3 would kill the
// process. gdb's breakpoints there ("break write" finds the library's
// wrappers too) are taken and never written.
void find_library_code();

// gdb's Z0/z0: an int3 written over the instruction's first byte, and back.
bool insert_breakpoint(uint64_t addr);
bool remove_breakpoint(uint64_t addr);
bool is_breakpoint(uint64_t addr);
// A breakpoint met by code that must not stop (the library's host side, a
// vfork child) is lifted for one trap-flag step: its byte put back (false if
// no breakpoint is at addr), then its int3 again if gdb still wants it.
bool lift_breakpoint(uint64_t addr);
void reinsert_breakpoint(uint64_t addr);
// Every breakpoint's byte put back (detach, a vanished client, a forked
// child's copy of the memory).
void remove_all_breakpoints();
// Reads through inserted breakpoints: the program's own bytes, as gdb expects.
void hide_breakpoints(uint64_t addr, void* buf, size_t n);

}  // namespace dune::debug
