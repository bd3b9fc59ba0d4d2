/* bench_util.h - timing helpers shared by the benchmark programs. */
#ifndef DUNE_BENCH_UTIL_H
#define DUNE_BENCH_UTIL_H

#include <stdint.h>
#include <stdlib.h>
#include <x86intrin.h>

static inline uint64_t bench_tsc(void) {
  unsigned aux;
  return __rdtscp(&aux);
}

static int bench_cmp_u64(const void *a, const void *b) {
  uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
  return x < y ? -1 : x > y;
}

/* Sorts v and returns its median. */
static inline uint64_t bench_median(uint64_t *v, size_t n) {
  qsort(v, n, sizeof *v, bench_cmp_u64);
  return v[n / 2];
}

/* The cost of reading the TSC itself, subtracted from timed operations. */
static inline uint64_t bench_tsc_overhead(void) {
  uint64_t s[1001];
  for (int i = 0; i < 1001; ++i) {
    uint64_t a = bench_tsc();
    s[i] = bench_tsc() - a;
  }
  return bench_median(s, 1001);
}

#endif
