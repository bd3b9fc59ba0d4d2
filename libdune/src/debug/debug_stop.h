// debug_stop.h - all-stop for a debugger: every guest thread of the process
// parks at a point where its ring-3 state is known, and goes on when gdb says.
//
// A thread stops for an event of its own (a breakpoint, the end of a step, a
// signal or fault for the program) or because another thread's event or gdb's
// Ctrl-C asked every thread to stop: the server then kicks it out of the
// guest with a signal the library reserves while a debugger is attached.
#pragma once

#include <signal.h>

#include <cstdint>

namespace dune {
class GuestThread;
}

namespace dune::debug {

enum class Why : uint8_t {
  kNone,
  kRequest,     // gdb's Ctrl-C, or a debugger connecting: SIGINT / SIGTRAP
  kBreakpoint,  // one of gdb's software breakpoints (rip already put back on it)
  kStep,        // a single-step ended
  kSignal,      // a signal or fault for the program, before it is delivered
};

// A debugger is attached: events stop the process. One relaxed load.
bool attached();
// A stop is wanted: a thread at the top of its vCPU loop parks. One relaxed load.
bool stop_requested();

// At the top of the vCPU loop, with a stop requested: parks until gdb resumes.
void park_for_request(GuestThread& t);

struct Outcome {
  bool reported = false;  // this event was the one gdb was told of
  int signo = 0;          // the signal gdb resumed this thread with (0: none)
};
// An event on thread t: stops the process, reports it unless another
// thread's stop came first, parks until gdb resumes. signo: the signal of a
// kSignal event (SIGTRAP for the others).
Outcome stop_for_event(GuestThread& t, Why why, int signo, char watch = 0, uint64_t watch_addr = 0,
                       const siginfo_t* info = nullptr);

// Whether gdb wants signal signo for the program passed on without a stop
// (its QPassSignals list).
bool passes_silently(int signo);

// The program ends: gdb is told its status or its signal first.
void report_exit(int status);
void report_death(int signo);

// --- for the server (gdb_server.cpp) ---
struct StopReport {
  Why why = Why::kNone;
  int signo = 0;
  int tid = 0;  // the thread the stop is reported for
  char watch = 0;          // a watchpoint's stop: 'w' (write), 'r' (read), 'a' (access), 'h' (hardware breakpoint)
  uint64_t watch_addr = 0;
  siginfo_t info{};        // a kSignal stop's siginfo (qXfer:siginfo:read)
};
// Asks every thread to stop (Ctrl-C, a new connection), with the signal the
// stop is reported with if no thread's own event comes first.
void request_stop(int signo);
// Waits until every guest thread of the process is parked (kicking those in
// the guest); returns what to report. False if the wait gave up on some.
bool wait_all_parked(StopReport* out);
// The wait for an event, to poll beside the socket: readable when a thread
// asked for a stop. Drained by wait_all_parked.
int event_fd();

enum class Action : uint8_t { kContinue, kStep };
struct ResumeAction {
  int tid = -1;  // -1: every thread without one of its own
  Action action = Action::kContinue;
  int signo = 0;
};
// Lets every parked thread go, each with the first action naming it (or the default).
void resume_all(const ResumeAction* actions, int n);
// Calls fn for every parked thread of the process, tid order not promised.
void for_each_parked(void (*fn)(GuestThread& t, void* ctx), void* ctx);
GuestThread* parked_thread(int tid);
void set_pass_signals(uint64_t mask);

// In a forked child: no stop pending, nobody attached.
void clear_after_fork();

// Attaching and detaching the debugger. start_server() (gdb_server.cpp)
// calls attach with the kick signal it installed.
void set_attached(bool on);

}  // namespace dune::debug

namespace dune::debug {

// A #BP or #DB in the guest while a debugger is attached: gdb's breakpoint
// (RIP put back on it) or the end of gdb's step stops the process here; true
// then. False for a trap of the program's own, which goes the usual way (a
// SIGTRAP, itself a stop for gdb before it is delivered).
bool on_debug_trap(GuestThread& t, int vector);

// A syscall made by gdb's step returned: the step's stop.
void step_ended(GuestThread& t);

// A KVM_EXIT_DEBUG: a hardware breakpoint or watchpoint of gdb's (or the
// end of a step while those are on) stops the process here.
void on_debug_exit(GuestThread& t, uint64_t dr6);

// A signal for the program (from the host, or a fault's) with gdb attached:
// true if it goes on to the program (gdb passed it on, or resumed with it);
// false if it is dropped or left for later (another thread's stop was
// reported first: a fault's comes again, a queued one is requeued by the
// caller).
struct SignalVerdict {
  bool deliver = true;
  bool reported = true;
};
SignalVerdict on_program_signal(GuestThread& t, const siginfo_t& info);

}  // namespace dune::debug
