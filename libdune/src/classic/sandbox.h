// sandbox.h - dune_jump_to_user: code run in ring 3 on its own page table, its
// syscalls and exceptions sent to the launcher's handlers.
//
// The launcher's handlers run in the guest like other Dune trap handlers, but
// on the launcher's stack (a library-mapped one in threads the sandbox made),
// with the launcher's page table and FS base; the sandbox's table comes back
// when they return.
#pragma once

#include <dune/dune.h>

#include <cstdint>

#include "syscalls/dispatch.h"

namespace dune {

class GuestThread;
struct TrapFrame;

// Host sides of the hypercalls.
long sandbox_jump(GuestThread& t, uint64_t tf_addr);
long sandbox_ret(GuestThread& t, long ret);
long sandbox_passthrough(GuestThread& t, uint64_t tf_addr);

// A syscall of a running sandbox: true if it went to the launcher's handler
// (false: none is registered, it passes through).
bool sandbox_syscall(GuestThread& t, const SyscallArgs& s);
// An exception of a running sandbox.
void sandbox_exception(GuestThread& t);
// A launcher handler returned to a sandbox.
void sandbox_trap_return(GuestThread& t, const TrapFrame& frame);
// The sandbox used something only launchers may (a hypercall, trap return):
// its run ends with -EPERM.
void sandbox_refuse(GuestThread& t, const char* what);
// Unmaps the handler stack the library made for a thread (at its exit).
void release_sandbox_stack(GuestThread& t);

// The launcher's syscall handler (dune_register_syscall_handler).
dune_syscall_cb syscall_handler();
int set_syscall_handler(dune_syscall_cb cb);
// The table dune_jump_to_user runs on (dune_set_user_root; 0: pgroot).
uint64_t user_root_hva();
void set_user_root_hva(uint64_t root);

// While alive, the calling host thread's memory syscalls also update the
// sandbox's table.
class FollowSandbox {
 public:
  explicit FollowSandbox(GuestThread& t);
  ~FollowSandbox();
  FollowSandbox(const FollowSandbox&) = delete;
  FollowSandbox& operator=(const FollowSandbox&) = delete;
};

}  // namespace dune
