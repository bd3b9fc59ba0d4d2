#include "signals/host_signals.h"

#include <signal.h>
#include <sys/syscall.h>
#include <ucontext.h>

#include <cstring>

#include "base/raw_syscall.h"
#include "runtime/guest_thread.h"
#include "runtime/thread_registry.h"
#include "syscalls/dispatch.h"

extern "C" {
void dune_host_restorer();
}

namespace dune {

namespace {

long raw_sigaction(int sig, const KernelSigaction* act, KernelSigaction* old);

bool is_fault_signal(int sig) {
  return sig == SIGSEGV || sig == SIGBUS || sig == SIGILL || sig == SIGFPE || sig == SIGTRAP;
}

long raw_sigaction(int sig, const KernelSigaction* act, KernelSigaction* old) {
  return sys::syscall6(SYS_rt_sigaction, sig, reinterpret_cast<long>(act), reinterpret_cast<long>(old), 8);
}

// A thread outside Dune mode caught a signal the program handles: run the
// program's handler right here, natively, as Linux would have.
void run_natively(int sig, siginfo_t* info, ucontext_t* uc) {
  KernelSigaction a = signal_table().get(sig);
  if (a.handler <= 1) return;
  uint64_t saved;
  std::memcpy(&saved, &uc->uc_sigmask, sizeof saved);
  uint64_t mask = (saved | a.mask | ((a.flags & SA_NODEFER) ? 0 : sigbit(sig))) & ~kUnblockable;
  set_sigmask(mask);
  if (a.flags & SA_RESETHAND) {
    signal_table().set(sig, reset_to_default(a));
    (void)install_host_action(sig, reset_to_default(a));
  }
  if (a.flags & SA_SIGINFO)
    reinterpret_cast<void (*)(int, siginfo_t*, void*)>(a.handler)(sig, info, uc);
  else
    reinterpret_cast<void (*)(int)>(a.handler)(sig);
}

// The program's syscall, run by the host, was interrupted, or was about to
// start (forward.S): if it has not run, or the kernel is about to restart it
// (RIP moved back onto the syscall instruction), stop it instead: the guest
// makes it again after its handler, as it would natively. With eintr_too (a
// debugger's kick, not a signal of the program's), a syscall the kick ended
// with EINTR is made again as well.
void stop_interrupted_syscall(ucontext_t* uc, bool eintr_too) {
  greg_t& rip = uc->uc_mcontext.gregs[REG_RIP];
  greg_t& rax = uc->uc_mcontext.gregs[REG_RAX];
  if ((rip >= reinterpret_cast<greg_t>(dune_forward_check) && rip <= reinterpret_cast<greg_t>(dune_forward_insn)) ||
      (eintr_too && rip == reinterpret_cast<greg_t>(dune_forward_done) && rax == -EINTR)) {
    rip = reinterpret_cast<greg_t>(dune_forward_done);
    rax = kRestartSyscall;
  }
}

uint64_t g_reserved = 0;  // signals the library keeps for itself (a debugger's kick)

}  // namespace

// A debugger's stop: out of the guest (KVM_RUN returns at once), out of a
// syscall the host runs for the program (made again after the stop).
extern "C" void dune_host_kick(int, siginfo_t*, void* ucv) {
  auto* uc = static_cast<ucontext_t*>(ucv);
  GuestThread* t = thread_on_host_stack(reinterpret_cast<uint64_t>(&uc));
  if (!t) return;
  stop_interrupted_syscall(uc, true);
  t->vcpu().run()->immediate_exit = 1;
}

namespace {
void (*g_fatal_hook)(int) = nullptr;
}

bool kills_by_default(int sig) {
  switch (sig) {
    case SIGCHLD: case SIGCONT: case SIGURG: case SIGWINCH:          // ignored
    case SIGSTOP: case SIGTSTP: case SIGTTIN: case SIGTTOU:          // stop
    case SIGKILL:
      return false;
    default:
      return sig >= 1 && sig <= kMaxSignal;
  }
}

void set_fatal_signal_hook(void (*hook)(int)) { g_fatal_hook = hook; }

// A signal left at SIG_DFL that kills: report, then die of it for real.
extern "C" void dune_host_fatal_signal(int sig, siginfo_t*, void*) {
  if (auto hook = g_fatal_hook) hook(sig);
  KernelSigaction dfl{};
  raw_sigaction(sig, &dfl, nullptr);
  uint64_t set = sigbit(sig);
  sys::syscall6(SYS_rt_sigprocmask, SIG_UNBLOCK, reinterpret_cast<long>(&set), 0, 8);
  sys::syscall6(SYS_tgkill, sys::getpid(), sys::gettid(), sig);
}

extern "C" void dune_host_signal(int sig, siginfo_t* info, void* ucv) {
  auto* uc = static_cast<ucontext_t*>(ucv);
  uint64_t sp = reinterpret_cast<uint64_t>(&uc);
  GuestThread* t = thread_on_host_stack(sp);
  if (!t) {
    run_natively(sig, info, uc);
    return;
  }
  if (is_fault_signal(sig) && info->si_code > 0) {
    // The library's own host code faulted (the guest's faults never reach the
    // host as signals): die of it, with the kernel's default action.
    KernelSigaction dfl{};
    raw_sigaction(sig, &dfl, nullptr);
    return;
  }
  stop_interrupted_syscall(uc, false);
  SignalQueue& q = t->pending_signals();
  uint64_t before;  // the interrupted code's mask, restored when this returns
  std::memcpy(&before, &uc->uc_sigmask, sizeof before);
  uint64_t after = before;
  // Pending for the program now: blocked until delivered (signal_queue.h),
  // unless the program blocks it anyway (sigsuspend let it in).
  bool block_while_waiting = !(before & sigbit(sig));
  if (q.push(*info, block_while_waiting))
    after |= sigbit(sig);
  else
    requeue_signal(*info);  // full without holding (not reached): pending in the kernel
  // Full: the kernel keeps every further signal until the loop has room.
  if (q.full()) {
    q.hold(before & ~q.waiting());
    after = ~0ull;
  }
  std::memcpy(&uc->uc_sigmask, &after, sizeof after);
  t->vcpu().run()->immediate_exit = 1;
}

Status install_host_action(int sig, const KernelSigaction& guest) {
  if (g_reserved & sigbit(sig)) return {};  // the program's action is kept in the table only
  KernelSigaction host = guest;
  if (guest.handler == 0 && g_fatal_hook && kills_by_default(sig)) {
    host.handler = reinterpret_cast<uint64_t>(&dune_host_fatal_signal);
    host.flags = SA_SIGINFO | kSaRestorer | SA_RESTART;
    host.restorer = reinterpret_cast<uint64_t>(&dune_host_restorer);
    host.mask = ~0ull;
  } else if (guest.handler > 1) {
    host.handler = reinterpret_cast<uint64_t>(&dune_host_signal);
    host.flags = SA_SIGINFO | kSaRestorer |
                 (guest.flags & (SA_RESTART | SA_NOCLDSTOP | SA_NOCLDWAIT));
    host.restorer = reinterpret_cast<uint64_t>(&dune_host_restorer);
    host.mask = ~0ull;  // the handler only queues: nothing may interrupt it
  }
  return status_of(raw_sigaction(sig, &host, nullptr));
}

void adopt_host_handlers() {
  SignalTable& table = signal_table();
  for (int sig = 1; sig <= kMaxSignal; ++sig) {
    if (sig == SIGKILL || sig == SIGSTOP) continue;
    KernelSigaction cur{};
    if (raw_sigaction(sig, nullptr, &cur) != 0) continue;
    if (cur.handler == reinterpret_cast<uint64_t>(&dune_host_signal) ||
        cur.handler == reinterpret_cast<uint64_t>(&dune_host_fatal_signal))
      continue;
    table.set(sig, cur);
    if (cur.handler > 1 || (cur.handler == 0 && g_fatal_hook && kills_by_default(sig)))
      (void)install_host_action(sig, cur);
  }
}

uint64_t current_sigmask() {
  uint64_t cur = 0;
  sys::syscall6(SYS_rt_sigprocmask, SIG_BLOCK, 0, reinterpret_cast<long>(&cur), 8);
  return cur;
}

uint64_t block_all_signals() {
  uint64_t all = ~0ull, old = 0;
  sys::syscall6(SYS_rt_sigprocmask, SIG_SETMASK, reinterpret_cast<long>(&all), reinterpret_cast<long>(&old), 8);
  return old;
}

void set_sigmask(uint64_t mask) {
  mask &= ~(kUnblockable | g_reserved);
  sys::syscall6(SYS_rt_sigprocmask, SIG_SETMASK, reinterpret_cast<long>(&mask), 0, 8);
}

void requeue_signal(const siginfo_t& info) {
  siginfo_t copy = info;
  sys::syscall6(SYS_rt_tgsigqueueinfo, sys::getpid(), sys::gettid(), info.si_signo,
                reinterpret_cast<long>(&copy));
}

}  // namespace dune

namespace dune {

uint64_t reserved_signals() { return g_reserved; }

bool reserve_kick_signal(int sig) { return reserve_host_signal(sig, &dune_host_kick); }

bool reserve_host_signal(int sig, void (*handler)(int, siginfo_t*, void*)) {
  KernelSigaction kick{};
  kick.handler = reinterpret_cast<uint64_t>(handler);
  kick.flags = SA_SIGINFO | kSaRestorer | SA_RESTART;
  kick.restorer = reinterpret_cast<uint64_t>(&dune_host_restorer);
  kick.mask = ~0ull;
  if (raw_sigaction(sig, &kick, nullptr) != 0) return false;
  g_reserved |= sigbit(sig);
  uint64_t set = sigbit(sig);
  sys::syscall6(SYS_rt_sigprocmask, SIG_UNBLOCK, reinterpret_cast<long>(&set), 0, 8);
  return true;
}

void release_host_signal(int sig) {
  g_reserved &= ~sigbit(sig);
  (void)install_host_action(sig, signal_table().get(sig));
}

}  // namespace dune
