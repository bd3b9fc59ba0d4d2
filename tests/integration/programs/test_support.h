/* test_support.h - what every integration test program does when Dune mode
 * cannot be entered: skip (exit 77) with the reason, or fail when the run
 * requires KVM (DUNE_REQUIRE_KVM=1, which CI sets). */
#ifndef DUNE_TEST_SUPPORT_H
#define DUNE_TEST_SUPPORT_H

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include <dune/dune.h>

#define DUNE_TEST_SKIP 77

static inline int dune_test_kvm_required(void) {
  const char *v = getenv("DUNE_REQUIRE_KVM");
  return v && strcmp(v, "1") == 0;
}

/* err: the negative errno dune_init_and_enter returned. */
static inline void dune_test_skip_or_fail(const char *name, int err) {
  int unavailable = err == -ENOENT || err == -EACCES || err == -EPERM || err == -ENODEV ||
                    err == -ENXIO || err == -ENOTSUP;
  if (unavailable && !dune_test_kvm_required()) {
    fprintf(stderr, "%s: SKIP: Dune mode unavailable here (%s)\n", name, strerror(-err));
    exit(DUNE_TEST_SKIP);
  }
  fprintf(stderr, "%s: FAIL: cannot enter Dune mode: %s%s\n", name, strerror(-err),
          unavailable ? " (DUNE_REQUIRE_KVM=1 turns this skip into a failure)" : "");
  exit(1);
}

/* Where every VM exit is slow (the emulated VT-x bed sets DUNE_TEST_QUICK=1),
 * loops run fewer times... */
static inline long dune_test_count(long full, long quick) {
  const char *v = getenv("DUNE_TEST_QUICK");
  return v && strcmp(v, "1") == 0 ? quick : full;
}
/* ...and timers fire less often (an emulated CPU's clock runs with the
 * instructions it executes, so a 1 ms timer can outpace the signal it sends). */
static inline long dune_test_usec(long usec) {
  const char *v = getenv("DUNE_TEST_TIME_SCALE");
  long scale = v ? atol(v) : 1;
  return usec * (scale > 0 ? scale : 1);
}

/* Nanoseconds of CLOCK_MONOTONIC since t0. */
static inline long dune_test_nsec_since(const struct timespec *t0) {
  struct timespec now;
  clock_gettime(CLOCK_MONOTONIC, &now);
  return (now.tv_sec - t0->tv_sec) * 1000000000L + (now.tv_nsec - t0->tv_nsec);
}

/* A signal period of at least usec that is also long against what one
 * signal costs where the program runs: ten deliveries to itself, measured
 * here (kill, the handler, its return). Natively that is microseconds; in
 * Dune mode every delivery takes VM exits, on PVM ~100 us, on the emulated
 * beds milliseconds of their clock. At ten times that the program still
 * spends most of its time between two signals, as a program under a timer
 * does natively; faster, it would only take signals (natively as well). */
static int dune_test_calibration_signals;
static inline void dune_test_count_signal(int sig) {
  (void)sig;
  ++dune_test_calibration_signals;
}
static inline long dune_test_signal_period_usec(long usec) {
  struct sigaction sa, old;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = dune_test_count_signal;
  sigemptyset(&sa.sa_mask);
  sigaction(SIGURG, &sa, &old);
  const int n = 50;
  struct timespec t0;
  clock_gettime(CLOCK_MONOTONIC, &t0);
  for (int i = 0; i < n; ++i) kill(getpid(), SIGURG);
  long ns = dune_test_nsec_since(&t0);
  sigaction(SIGURG, &old, NULL);
  long ten_deliveries_us = ns / n * 10 / 1000;
  return ten_deliveries_us > usec ? ten_deliveries_us : usec;
}

/* One line per check, "NAME: WHAT ... ok|FAIL", failures counted. */
static int dune_test_failures;
static inline void dune_test_check(const char *name, int ok, const char *what) {
  printf("%s: %-66s %s\n", name, what, ok ? "ok" : "FAIL");
  fflush(stdout);
  if (!ok) ++dune_test_failures;
}

/* A handler for sig (sa_handler form), with flags and an empty sa_mask. */
static inline void dune_test_handle(int sig, void (*fn)(int), int flags) {
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = fn;
  sa.sa_flags = flags;
  sigemptyset(&sa.sa_mask);
  sigaction(sig, &sa, NULL);
}

/* The same for an SA_SIGINFO handler. */
static inline void dune_test_handle_info(int sig, void (*fn)(int, siginfo_t *, void *), int flags) {
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_sigaction = fn;
  sa.sa_flags = SA_SIGINFO | flags;
  sigemptyset(&sa.sa_mask);
  sigaction(sig, &sa, NULL);
}

/* Enters Dune mode, or stays native when the program was given --native: the
 * same checks run natively show that they state what Linux itself does. */
static inline void dune_test_enter(const char *name, int argc, char **argv) {
  if (argc > 1 && strcmp(argv[1], "--native") == 0) return;
  int r = dune_init_and_enter();
  if (r) dune_test_skip_or_fail(name, r);
}

#endif
