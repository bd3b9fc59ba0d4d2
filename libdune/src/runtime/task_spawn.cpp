// task_spawn.cpp - clone, clone3, fork and vfork in Dune mode.
//
// The host creates the task with the program's own flags and pointers, so that
// the kernel's semantics (TIDs, CLONE_CHILD_CLEARTID's futex wake, exit
// signals, vfork suspension) are the kernel's. A task that shares the memory
// (CLONE_VM) becomes a new vCPU of the same VM; one that does not (fork)
// builds a VM of its own from the copy of the library's state it inherits.
#include <linux/futex.h>
#include <linux/sched.h>
#include <sys/syscall.h>

#include <atomic>
#include <cstring>
#include <new>

#include "base/host_arena.h"
#include "base/log.h"
#include "base/own_fds.h"
#include "runtime/clone_args.h"
#include "runtime/guest_memory.h"
#include "runtime/guest_thread.h"
#include "runtime/runtime.h"
#include "runtime/thread_registry.h"
#include "signals/host_signals.h"
#include "signals/signal_delivery.h"
#include "signals/signal_table.h"
#include "syscalls/handlers.h"
#include "trace/events.h"

extern "C" long dune_host_clone(long nr, long a1, long a2, long a3, long a4, long a5,
                                void (*child_fn)(void*), void* child_arg);

namespace dune {

namespace {

// What the program asked for, from clone, clone3, fork or vfork.
struct CloneRequest {
  uint64_t flags = 0;     // CLONE_* (clone: with the exit signal in the low byte)
  uint64_t child_sp = 0;  // the child's stack pointer; 0: the parent's
  uint64_t tls = 0;
  uint64_t parent_tid = 0, child_tid = 0;
  bool clone3 = false;
  CloneArgs args{};  // clone3's, passed on
};

// The state a child starts in: the parent's at the syscall, returning 0.
class ChildState {
 public:
  ChildState(GuestThread& parent, const CloneRequest& req) : size_(parent.rt().xsave_size) {
    xsave_ = host_arena()->allocate(size_, 64);
    std::memset(xsave_, 0, size_);
    parent.user_state(&start.regs);
    start.regs.rax = 0;
    if (req.child_sp) start.regs.rsp = req.child_sp;
    auto fs = parent.vcpu().get_msr(kvm::kMsrFsBase);
    auto gs = parent.vcpu().get_msr(kvm::kMsrGsBase);
    start.fs_base = (req.flags & CLONE_SETTLS) ? req.tls : (fs ? fs.value() : 0);
    start.gs_base = gs ? gs.value() : 0;
    ok = fs.ok() && gs.ok() && parent.vcpu().get_xsave(xsave_, size_).ok();
    start.xsave = xsave_;
    // A new thread starts without a sigaltstack, a forked or vforked child with
    // its parent's (as in Linux's copy_process).
    bool shares_vm = req.flags & CLONE_VM, vfork = req.flags & CLONE_VFORK;
    start.altstack = (shares_vm && !vfork) ? AltStack{} : parent.altstack();
    // A task a sandbox creates stays in it: its table, its launcher's handlers.
    if (parent.sandbox.in_run) {
      start.sandbox = parent.sandbox;
      start.sandbox.active = true;
      start.sandbox.depth = 0;
      if (shares_vm) {
        start.sandbox.born = true;
        start.sandbox.stack_base = start.sandbox.stack_len = 0;
        start.sandbox.launcher_xsave = nullptr;  // the launcher thread's
      }
      start.cr3 = parent.sandbox.root_gpa;
    }
  }
  ~ChildState() { host_arena()->deallocate(xsave_, size_, 64); }
  ChildState(const ChildState&) = delete;
  ChildState& operator=(const ChildState&) = delete;

  GuestStart start{};
  bool ok = false;

 private:
  void* xsave_;
  size_t size_;
};

// What the parent hands a new thread, and how it learns the outcome.
struct ThreadBirth {
  Runtime* rt;
  const GuestStart* start;
  Mapping* host_stack;
  VcpuSlot* slot;
  SignalTable* sigtable;
  bool vfork;
  uint64_t program_mask;      // the signal mask the thread starts the guest with
  std::atomic<int> state{0};  // 0: starting; 1: running; < 0: -errno, the child gave up
  GuestThread* child = nullptr;
};

void futex_wake(std::atomic<int>* word) {
  sys::syscall6(SYS_futex, reinterpret_cast<long>(word), FUTEX_WAKE_PRIVATE, 1);
}

void futex_wait_while(std::atomic<int>* word, int value) {
  while (word->load(std::memory_order_acquire) == value)
    sys::syscall6(SYS_futex, reinterpret_cast<long>(word), FUTEX_WAIT_PRIVATE, value, 0);
}

// The new thread's first code, on its host stack: a vCPU, then the guest.
void thread_child_main(void* p) {
  auto* b = static_cast<ThreadBirth*>(p);
  auto t = GuestThread::create(*b->rt, *b->start, b->host_stack, b->slot);
  if (!t) {
    // The parent reports EAGAIN; this task ends (its host stack stays mapped:
    // it is running on it).
    b->state.store(t.error() < 0 ? t.error() : -EAGAIN, std::memory_order_release);
    futex_wake(&b->state);
    for (;;) sys::syscall6(SYS_exit, 0);
  }
  GuestThread* g = t.value();
  g->vfork_child = b->vfork;
  g->set_mask_at_start(b->program_mask);
  g->set_sigtable(b->sigtable);
  b->child = g;
  b->state.store(1, std::memory_order_release);
  futex_wake(&b->state);  // b belongs to the parent from here on
  g->start();
}

// The host's clone or clone3 with the program's arguments, but the host stack
// (and child function) given.
long host_clone(const CloneRequest& req, uint64_t stack_lo, uint64_t stack_hi,
                void (*fn)(void*), void* arg) {
  if (req.clone3) {
    CloneArgs a = req.args;
    a.stack = stack_lo;
    a.stack_size = stack_hi - stack_lo;
    return dune_host_clone(SYS_clone3, reinterpret_cast<long>(&a), sizeof a, 0, 0, 0, fn, arg);
  }
  return dune_host_clone(SYS_clone, static_cast<long>(req.flags), static_cast<long>(stack_hi),
                         static_cast<long>(req.parent_tid), static_cast<long>(req.child_tid),
                         static_cast<long>(req.tls), fn, arg);
}

long spawn_thread(GuestThread& t, const CloneRequest& req) {
  Runtime& rt = t.rt();
  ChildState child(t, req);
  if (!child.ok) return -EAGAIN;
  auto stack = new_host_stack();
  if (!stack) return -EAGAIN;
  // The vCPU is taken (and, if new, created) here: a child without CLONE_FILES
  // (vfork, posix_spawn) has a copy of the descriptor table, and a vCPU it
  // created would exist in its copy only.
  auto slot = rt.pool.take(rt);
  if (!slot) return -EAGAIN;
  // Without CLONE_SIGHAND the child has signal actions of its own (a vfork
  // child resets them before exec): a copy, not the parent's table.
  SignalTable* table = &t.sigtable();
  if (!(req.flags & CLONE_SIGHAND)) {
    table = new (host_arena()->allocate(sizeof(SignalTable), alignof(SignalTable))) SignalTable();
    for (int sig = 1; sig <= kMaxSignal; ++sig) table->set(sig, t.sigtable().get(sig));
  }
  ThreadBirth birth{&rt, &child.start, &stack.value(), slot.value(), table, (req.flags & CLONE_VFORK) != 0,
                    program_sigmask(t)};
  // The child is born with every signal blocked: until its host stack is
  // known, a signal could not be told apart from one for the native program.
  // It takes the program's mask once it can (GuestThread::run).
  uint64_t host_mask = block_all_signals();
  long r = host_clone(req, stack->start(), stack->end(), &thread_child_main, &birth);
  set_sigmask(host_mask);
  if (r > 0) futex_wait_while(&birth.state, 0);
  int state = birth.state.load(std::memory_order_acquire);
  bool own_table = table != &t.sigtable();
  if (birth.vfork && state == 1) {
    // The child has exec'd or exited by now (vfork): its vCPU and host stack
    // come back here.
    // (Its statistics were its own process's: they are not this one's.)
    GuestThread* c = birth.child;
    unregister_host_stack(c);
    Mapping child_stack = c->release();
    c->~GuestThread();
    host_arena()->deallocate(c, sizeof(GuestThread), alignof(GuestThread));
  }
  if (own_table && (r < 0 || state != 1 || birth.vfork)) {
    table->~SignalTable();
    host_arena()->deallocate(table, sizeof(SignalTable), alignof(SignalTable));
  }
  // The vCPU stays taken by a running child; a failed one gave it back.
  if (r < 0) rt.pool.give_back(slot.value());
  if (r < 0) return r;
  if (state < 0) {
    log::warn("clone: the new thread could not get a vCPU: {}", log::errno_name(state));
    return -EAGAIN;
  }
  return r;
}

long spawn_process(GuestThread& t, const CloneRequest& req) {
  Runtime& rt = t.rt();
  ChildState child(t, req);
  if (!child.ok) return -EAGAIN;
  // Every signal blocked across the fork: the child's handler would find a
  // vCPU of the parent's VM and a queue of the parent's signals until its own
  // VM is built. It takes the program's mask then.
  uint64_t program_mask = program_sigmask(t);
  uint64_t host_mask = block_all_signals();
  rt.fork_lock();
  long r = host_clone(req, 0, 0, nullptr, nullptr);
  rt.fork_unlock();
  if (r != 0) {
    set_sigmask(host_mask);
    return r;
  }
  // The child: its memory is a copy of the parent's, the library's state
  // included, but every KVM descriptor belongs to the parent's VM (and, with
  // CLONE_FILES, sits in the parent's own table: it must stay open).
  own_fds::after_fork();
  if (req.flags & CLONE_FILES) own_fds::share_parents_table();
  Status s = rt.rebuild_after_fork(t, child.start);
  if (!s) {
    log::error("fork: the child cannot build its own VM ({}); it exits with status 127",
               log::errno_name(s.error()));
    for (;;) sys::syscall6(SYS_exit_group, 127);
  }
  set_sigmask(program_mask);
  if (trace::wanted(DUNE_EV_THREAD)) trace::emit_task_start();
  return kResumed;
}

long spawn(GuestThread& t, const CloneRequest& req) {
  return (req.flags & CLONE_VM) ? spawn_thread(t, req) : spawn_process(t, req);
}

}  // namespace

long sys_clone(GuestThread& t, const SyscallArgs& s) {
  CloneRequest req;
  req.flags = s.a[0];
  req.child_sp = s.a[1];
  req.parent_tid = s.a[2];
  req.child_tid = s.a[3];
  req.tls = s.a[4];
  return spawn(t, req);
}

long sys_clone3(GuestThread& t, const SyscallArgs& s) {
  CloneRequest req;
  req.clone3 = true;
  int e = read_clone_args(s.a[0], s.a[1], &req.args,
                          [](void* dst, uint64_t addr, size_t n) { return copy_from_guest(dst, addr, n); });
  if (e == 0) e = check_clone_args(req.args);
  if (e) return e;
  req.flags = req.args.flags;
  req.tls = req.args.tls;
  req.child_sp = req.args.stack ? req.args.stack + req.args.stack_size : 0;
  return spawn(t, req);
}

long sys_fork(GuestThread& t, const SyscallArgs&) {
  CloneRequest req;
  req.flags = SIGCHLD;
  return spawn(t, req);
}

long sys_vfork(GuestThread& t, const SyscallArgs&) {
  CloneRequest req;
  req.flags = CLONE_VM | CLONE_VFORK | SIGCHLD;
  return spawn(t, req);
}

}  // namespace dune
