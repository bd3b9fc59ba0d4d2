// own_fds.h - the library's own file descriptors, out of the program's way.
//
// Programs close every descriptor they did not open (daemons, shells,
// close_range) or dup2 onto fixed numbers. The library's descriptors (KVM
// device, VM, vCPUs, log file) live at numbers at or above the soft
// RLIMIT_NOFILE, where the kernel never gives the program a descriptor, so
// every number below the limit stays the program's (where the hard limit
// leaves no room above, they sit at three quarters of it). A close of one of
// them by the program fails with EBADF as it would natively (the program never
// had it), and a dup2 onto one first moves the library's descriptor elsewhere.
// The library keeps using the number it first got (its "name"), which maps to
// wherever the descriptor is now.
#pragma once

namespace dune::own_fds {

// While one lives, the soft RLIMIT_NOFILE is raised towards the hard one, so
// that the library can open a descriptor when the program's table is full
// (a fork child of such a program needs a VM of its own). The program's limit
// is back when the outermost one ends. Recursive within a thread.
class Headroom {
 public:
  Headroom();
  ~Headroom();
  Headroom(const Headroom&) = delete;
  Headroom& operator=(const Headroom&) = delete;
};

// Moves a descriptor the library just opened above the program's numbers
// (close-on-exec) and records it. Returns the number to use from then on, or
// fd if it could not move it.
int adopt(int fd);
// Runs make(), which opens one descriptor and returns it or -errno, with room
// above a full table, and adopts it: its name, or -errno.
template <class Make>
long create(Make make) {
  Headroom room;
  long fd = make();
  return fd < 0 ? fd : adopt(static_cast<int>(fd));
}
// Closes it: forgets it and closes the descriptor, unless it is one of the
// parent's in a table this process shares with it (see share_parents_table).
void close(int name);
// Where the descriptor known as `name` is now.
int current(int name);
// True if the descriptor number fd (as the program sees numbers) is the library's.
bool owns(int fd);
// The lowest number the library holds (INT_MAX: none): below it, owns() is
// false without a search.
int lowest();
// The program wants number fd for itself (dup2, dup3): moves the library's
// descriptor there away. 0, or -errno.
int evict(int fd);
// Calls fn(fd) for every number the library holds, ascending.
void for_each(void (*fn)(int fd, void* ctx), void* ctx);

// In a child process made with CLONE_FILES and without CLONE_VM: the table is
// the parent's, and every descriptor recorded now is the parent's library's.
// They stay out of the program's way but this process never closes them.
void share_parents_table();
// Whether this process shares its table with its parent's library.
bool shares_parents_table();
// Closes every descriptor this process's library opened itself (a child that
// shares its parent's table, at its exit: the table outlives it).
void close_own();
// In a fork child: a Headroom another thread held at the fork is gone.
void after_fork();

}  // namespace dune::own_fds
