/* syscall_floor: a forwarded getppid in Dune mode beside the VM exit floor of
 * this host (a minimal VM's ring-3 syscall -> out -> host -> re-entry) and
 * beside getppid natively, all in one run. Medians of N round trips. */
#include <dune/bench.h>
#include <dune/dune.h>
#include <stdio.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "bench_util.h"

#define N 3000

static uint64_t timed_getppid(uint64_t *s, uint64_t overhead) {
  for (int i = 0; i < N; ++i) {
    uint64_t a = bench_tsc();
    syscall(SYS_getppid);
    s[i] = bench_tsc() - a - overhead;
  }
  return bench_median(s, N);
}

int main(void) {
  static uint64_t s[N];
  uint64_t overhead = bench_tsc_overhead();
  uint64_t native = timed_getppid(s, overhead);
  int r = dune_bench_exit_floor(s, N);
  if (r) {
    printf("syscall_floor: the exit floor cannot be measured here (%d)\n", r);
    return 1;
  }
  uint64_t floor = bench_median(s, N);
  r = dune_init_and_enter();
  if (r) {
    printf("syscall_floor: cannot enter Dune mode (%d)\n", r);
    return 1;
  }
  uint64_t dune = timed_getppid(s, overhead);
  printf("%-34s %12s\n", "getppid round trip (median)", "cycles");
  printf("%-34s %12llu\n", "native", (unsigned long long)native);
  printf("%-34s %12llu\n", "VM exit floor (minimal VM)", (unsigned long long)floor);
  printf("%-34s %12llu\n", "Dune mode (forwarded)", (unsigned long long)dune);
  printf("%-34s %12.3f\n", "Dune / floor", (double)dune / (double)floor);
  printf("%-34s %12.1f\n", "Dune / native", (double)dune / (double)native);
  return 0;
}
