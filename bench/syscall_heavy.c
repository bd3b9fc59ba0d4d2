/* syscall_heavy: N getppid syscalls (default 20000), each timed with the TSC;
 * prints the median and mean cycles of one. A plain program (no libdune): it
 * runs natively, under strace, under the preload shim and under dunetrace, so
 * that bench/dunetrace_overhead.py can compare what each adds to a syscall. */
#include <stdio.h>
#include <stdlib.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "bench_util.h"

int main(int argc, char **argv) {
  long n = argc > 1 ? atol(argv[1]) : 20000;
  if (n < 1) n = 1;
  uint64_t *s = malloc(sizeof(uint64_t) * (size_t)n);
  if (!s) return 1;
  uint64_t overhead = bench_tsc_overhead();
  uint64_t total = 0;
  for (long i = 0; i < n; ++i) {
    uint64_t a = bench_tsc();
    syscall(SYS_getppid);
    s[i] = bench_tsc() - a - overhead;
    total += s[i];
  }
  printf("syscall_heavy: n=%ld median=%llu mean=%llu cycles per getppid\n", n,
         (unsigned long long)bench_median(s, (size_t)n), (unsigned long long)(total / (uint64_t)n));
  free(s);
  return 0;
}
