// own_fds.h - the library's own file descriptors, out of the program's way.
//
// Programs close every descriptor they did not open (daemons, shells,
// close_range) or dup2 onto fixed numbers. The library's descriptors (KVM
// device, VM, vCPUs, log file) live at high numbers, a close of one of them by
// the program fails with EBADF as it would natively (the program never had
// it), and a dup2 onto one first moves the library's descriptor elsewhere. The
// library keeps using the number it first got (its "name"), which maps to
// wherever the descriptor is now.
#pragma once

namespace dune::own_fds {

// Moves a descriptor the library just opened to a high number (close-on-exec)
// and records it. Returns the number to use from then on, or fd if it could
// not move it.
int adopt(int fd);
// Forgets it (the library closes it).
void forget(int name);
// Where the descriptor known as `name` is now.
int current(int name);
// True if the descriptor number fd (as the program sees numbers) is the library's.
bool owns(int fd);
// The program wants number fd for itself (dup2, dup3): moves the library's
// descriptor there away. 0, or -errno.
int evict(int fd);
// Calls fn(fd) for every number the library holds, ascending.
void for_each(void (*fn)(int fd, void* ctx), void* ctx);

}  // namespace dune::own_fds
