/* timetest: time() and clock_gettime() in Dune mode read the host's clock
 * through the vDSO, agree with it, and cause no VM exit. */
#include <dune/dune.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "test_support.h"

static int64_t ns(struct timespec t) { return (int64_t)t.tv_sec * 1000000000 + t.tv_nsec; }

static int64_t host_clock(clockid_t id) {
  struct timespec t;
  syscall(SYS_clock_gettime, id, &t); /* forwarded: the host reads its clock */
  return ns(t);
}

int main(void) {
  int r = dune_init_and_enter();
  if (r) dune_test_skip_or_fail("timetest", r);
  int failures = 0;
  const clockid_t ids[] = {CLOCK_REALTIME, CLOCK_MONOTONIC};
  for (int i = 0; i < 2; ++i) {
    struct dune_stats before, after;
    struct timespec t;
    int64_t host_before, host_after, first = 0, last = 0;
    time_t secs;
    uint64_t exits;
    /* A signal delivered meanwhile (a profiler's timer, the .storm tests)
     * takes exits of its own: up to five tries, one without an exit suffices. */
    for (int attempt = 0; attempt < 5; ++attempt) {
      host_before = host_clock(ids[i]);
      dune_get_stats(&before);
      for (int n = 0; n < 1000; ++n) {
        clock_gettime(ids[i], &t);
        if (n == 0) first = ns(t);
        if (ns(t) < last) ++failures; /* never goes backwards */
        last = ns(t);
      }
      secs = time(NULL);
      dune_get_stats(&after);
      host_after = host_clock(ids[i]);
      /* dune_get_stats is itself one VM exit (a hypercall): the second one counts. */
      exits = after.vm_exits - before.vm_exits - 1;
      if (exits == 0) break;
    }
    printf("timetest: clock %d: 1000 vDSO reads and time() took %llu VM exits\n", (int)ids[i],
           (unsigned long long)exits);
    if (exits != 0) ++failures;
    if (first < host_before || last > host_after) {
      printf("timetest: FAIL: guest clock %lld..%lld outside host %lld..%lld\n", (long long)first,
             (long long)last, (long long)host_before, (long long)host_after);
      ++failures;
    }
    if (ids[i] == CLOCK_REALTIME &&
        (secs < host_before / 1000000000 || secs > host_after / 1000000000 + 1)) {
      printf("timetest: FAIL: time() = %lld\n", (long long)secs);
      ++failures;
    }
  }
  printf(failures ? "timetest: FAIL\n" : "timetest: ok\n");
  return failures ? 1 : 0;
}
