// host_signals.h - how signals for the guest are caught on the host.
//
// For every signal the program catches, the host thread has the library's
// handler instead: it queues the signal for the guest thread and makes KVM_RUN
// return at once, and the vCPU loop then builds the program's signal frame in
// the guest. SIG_DFL and SIG_IGN stay the kernel's own, so termination, core
// dumps, stop and continue behave exactly as natively.
#pragma once

#include "base/result.h"
#include "signals/signal_table.h"

namespace dune {

// Installs on the host what the program asked for sig: its SIG_DFL/SIG_IGN as
// they are, or the library's handler (with its SA_RESTART, so that the
// kernel's restart decision for an interrupted syscall is the program's).
Status install_host_action(int sig, const KernelSigaction& guest);
// At dune_init: takes over the handlers the program installed before it
// entered Dune mode.
void adopt_host_handlers();

// With a report to write at the end of the process (DUNE_STATS), a signal
// whose default action kills is caught first: the hook runs, then the signal
// is raised again with SIG_DFL and kills exactly as it would have.
void set_fatal_signal_hook(void (*hook)(int signo));
// Linux's default action for sig is to end the process.
bool kills_by_default(int sig);

// Current host (== guest) signal mask, and setting it.
uint64_t current_sigmask();
void set_sigmask(uint64_t mask);
// Blocks every signal on the host thread (SIGKILL and SIGSTOP aside); returns
// the mask before. Around the library's own work that no handler may see half
// done: a new thread's or child's birth, a thread's end.
uint64_t block_all_signals();

// A debugger's kick (debug/debug_stop.h): sig's handler stops KVM_RUN and a
// syscall in progress, and sig can no longer be blocked or caught by the
// program (its sigaction is recorded only) until released.
bool reserve_kick_signal(int sig);
// The same reservation for another handler of the library's (a debugger's
// breakpoints met by host code: debug/host_breakpoints.h).
bool reserve_host_signal(int sig, void (*handler)(int, siginfo_t*, void*));
void release_host_signal(int sig);
// Those signals, as a mask.
uint64_t reserved_signals();

// Puts a signal back into the kernel's pending set of the calling thread
// (where the program has it blocked for now).
void requeue_signal(const siginfo_t& info);

}  // namespace dune
