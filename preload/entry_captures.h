// entry_captures.h - what a traced syscall's in-out arguments held before it
// ran (select's sets, a socklen_t the kernel rewrites), kept from its entry
// event (DUNE_EVF_ENTRY) until its completion, whose record carries them.
//
// A fixed table, a slot per thread while its call runs (no allocation: the
// listener runs on the host side of a guest thread). A thread that finds its
// slot taken by a live thread goes without: its line then shows what the
// call left, as before.
#pragma once

#include <cstddef>
#include <cstdint>

#include "syscall_capture.h"

namespace dune::entry_captures {

// Runs the entry plan of the call now starting on thread tid of process pid.
void keep(int pid, int tid, long nr, const uint64_t (&args)[6], trace_wire::CaptureReader read);

// Appends the blobs kept for tid's call (the same nr and arguments) to area,
// up to room bytes; returns how many. The slot is free again.
size_t take(int tid, long nr, const uint64_t (&args)[6], uint8_t* area, size_t room);

}  // namespace dune::entry_captures
