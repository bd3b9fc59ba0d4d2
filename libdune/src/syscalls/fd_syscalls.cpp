// fd_syscalls.cpp - the program's descriptor syscalls, kept off the library's
// own descriptors (see base/own_fds.h): to the program, those numbers are
// free, as they would be natively.
#include <linux/close_range.h>
#include <sys/syscall.h>

#include <cerrno>

#include "base/own_fds.h"
#include "base/raw_syscall.h"
#include "syscalls/handlers.h"

namespace dune {

long sys_dup_onto(GuestThread& t, const SyscallArgs& s) {
  // (An oldfd of the library's is refused before, as for close, dup and fcntl:
  // fd_visibility.cpp.)
  int oldfd = static_cast<int>(s.a[0]), newfd = static_cast<int>(s.a[1]);
  // The program wants the number: the library's descriptor moves away first.
  bool evicted = false;
  if (oldfd != newfd && own_fds::owns(newfd)) {
    int e = own_fds::evict(newfd);
    if (e < 0) return e;
    evicted = true;
  }
  long r = forward_syscall(t, s);
  // Refused (newfd above the program's limit, a bad oldfd or flags): the old
  // number, a copy the library no longer owns, must not stay open for the
  // program to find where Linux has nothing.
  if (evicted && sys::is_error(r)) sys::close(newfd);
  return r;
}

long sys_close_range(GuestThread& t, const SyscallArgs& s) {
  unsigned first = static_cast<unsigned>(s.a[0]), last = static_cast<unsigned>(s.a[1]);
  if (first > last) return forward_syscall(t, s);  // the kernel's EINVAL
  // Close what the program has in [first, last], around the library's.
  struct Ctx {
    GuestThread* t;
    const SyscallArgs* s;
    unsigned next, last;
    long result;
  } ctx{&t, &s, first, last, 0};
  own_fds::for_each(
      [](int fd, void* p) {
        auto* c = static_cast<Ctx*>(p);
        unsigned u = static_cast<unsigned>(fd);
        if (u < c->next || u > c->last || c->result < 0) return;
        if (u > c->next) {
          SyscallArgs part = *c->s;
          part.a[0] = c->next;
          part.a[1] = u - 1;
          c->result = forward_syscall(*c->t, part);
        }
        c->next = u + 1;
      },
      &ctx);
  if (ctx.result < 0) return ctx.result;
  if (ctx.next == 0 && first != 0) return 0;  // wrapped: nothing left
  if (ctx.next > last) return 0;
  SyscallArgs rest = s;
  rest.a[0] = ctx.next;
  return forward_syscall(t, rest);
}

}  // namespace dune
