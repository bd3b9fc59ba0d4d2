/* cpu_loop: the same CPU-bound loop natively and in Dune mode (best of 3 each). */
#include <dune/dune.h>
#include <stdint.h>
#include <stdio.h>

#include "bench_util.h"

#define ITERS 200000000ull

static uint64_t sink;

static uint64_t run_once(void) {
  uint64_t x = 88172645463325252ull, a = 0;
  uint64_t t0 = bench_tsc();
  for (uint64_t i = 0; i < ITERS; ++i) {
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    a += x & 0xff;
  }
  uint64_t t = bench_tsc() - t0;
  sink += a;
  return t;
}

static uint64_t best_of_3(void) {
  uint64_t best = UINT64_MAX;
  for (int i = 0; i < 3; ++i) {
    uint64_t t = run_once();
    if (t < best) best = t;
  }
  return best;
}

int main(void) {
  uint64_t native = best_of_3();
  int r = dune_init_and_enter();
  if (r) {
    printf("cpu_loop: cannot enter Dune mode (%d)\n", r);
    return 1;
  }
  uint64_t dune = best_of_3();
  printf("%-34s %14s\n", "xorshift loop, 200M iterations", "cycles");
  printf("%-34s %14llu\n", "native", (unsigned long long)native);
  printf("%-34s %14llu\n", "Dune mode", (unsigned long long)dune);
  printf("%-34s %14.4f\n", "Dune speed / native speed", (double)native / (double)dune);
  return sink == 42;
}
