/* test_support.h - what every integration test program does when Dune mode
 * cannot be entered: skip (exit 77) with the reason, or fail when the run
 * requires KVM (DUNE_REQUIRE_KVM=1, which CI sets). */
#ifndef DUNE_TEST_SUPPORT_H
#define DUNE_TEST_SUPPORT_H

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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

/* Enters Dune mode, or stays native when the program was given --native: the
 * same checks run natively show that they state what Linux itself does. */
static inline void dune_test_enter(const char *name, int argc, char **argv) {
  if (argc > 1 && strcmp(argv[1], "--native") == 0) return;
  int r = dune_init_and_enter();
  if (r) dune_test_skip_or_fail(name, r);
}

#endif
