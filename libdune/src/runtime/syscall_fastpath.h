// syscall_fastpath.h - letting the Dune kernel module answer identity syscalls
// (getpid, getppid, gettid, get[e]uid, get[e]gid) in the kernel, without a
// return to user space (DUNE_MODULE_FASTPATH).
#pragma once

#include <optional>

namespace dune {

struct Runtime;

// "0" or "1"; nullopt for anything else.
std::optional<bool> parse_fastpath_knob(const char* value);

// Whether the process allows it: DUNE_MODULE_FASTPATH (default 1; a bad value
// warns once and means 1) and no DUNE_STATS report, which counts every syscall.
bool syscall_fastpath_wanted();

// On the module, turns it on or off for the runtime's VM: on where allowed,
// no sandbox ran and no listener wants syscall or VM-exit events (those
// syscalls would not be seen). At dune_init, in a forked child's new VM, and
// whenever the listener changes.
void apply_syscall_fastpath(Runtime& rt);

// A sandbox's syscalls go to its handler: from the first sandbox on, the
// process's VM (and its children's) forwards every syscall.
void block_syscall_fastpath(Runtime& rt);

}  // namespace dune
