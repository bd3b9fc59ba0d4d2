/* sigstorm.c - libdune_test_sigstorm.so: preloaded into a program (natively
 * or beside the Dune shim), it keeps a CPU-time timer signal firing at the
 * process from its start to its end, to a handler that only counts. Programs
 * must behave the same with it natively and in Dune mode: the way the
 * lost-syscall bug of signals meeting syscalls was found.
 *
 * DUNE_TEST_STORM_USEC  interval of process CPU time (default 1000)
 * DUNE_TEST_STORM_SIGNAL  signal number (default SIGRTMIN + 6: one that no
 *                         program under test catches or dies of itself, as
 *                         sort does of SIGPROF when it cleans up)
 * A POSIX timer, not setitimer: it ends with the image at exec (and a forked
 * child does not inherit it), so no signal comes between an exec and the
 * handler of the new image, which sets up its own. */
#define _GNU_SOURCE
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static volatile long storm_signals;

static void on_storm(int sig) {
  (void)sig;
  ++storm_signals;
}

__attribute__((constructor)) static void start_storm(void) {
  const char *u = getenv("DUNE_TEST_STORM_USEC");
  const char *s = getenv("DUNE_TEST_STORM_SIGNAL");
  long usec = u ? atol(u) : 1000;
  int sig = s ? atoi(s) : SIGRTMIN + 6;
  if (usec <= 0 || sig <= 0 || sig >= NSIG) return;
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = on_storm;
  sa.sa_flags = SA_RESTART;
  sigemptyset(&sa.sa_mask);
  if (sigaction(sig, &sa, NULL) != 0) return;
  struct sigevent ev;
  memset(&ev, 0, sizeof ev);
  ev.sigev_notify = SIGEV_SIGNAL;
  ev.sigev_signo = sig;
  timer_t timer;
  if (timer_create(CLOCK_PROCESS_CPUTIME_ID, &ev, &timer) != 0) return;
  struct itimerspec it = {{usec / 1000000, (usec % 1000000) * 1000}, {usec / 1000000, (usec % 1000000) * 1000}};
  timer_settime(timer, 0, &it, NULL);
}
