// host_breakpoints.h - gdb's breakpoints met by code running on the host.
//
// The program and the library share their code pages: an int3 gdb puts in
// libc (break memcpy) is met by the library's host side too, where it is a
// real SIGTRAP that would end the process. While gdb is attached the library
// keeps SIGTRAP: at one of gdb's breakpoints the original byte goes back for
// one single-stepped instruction and the int3 returns after it. Meanwhile a
// guest thread passing there does not stop (a missed hit, never a death).
#pragma once

namespace dune::debug {

bool reserve_host_breakpoints();
void release_host_breakpoints();

}  // namespace dune::debug
