/* fork_cost: fork + waitpid of a child that exits at once, natively and in
 * Dune mode (where the child builds a VM of its own), and thread create+join.
 * Medians of N rounds, microseconds. */
#include <dune/dune.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "bench_util.h"

#define N 200

static double now_us(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return t.tv_sec * 1e6 + t.tv_nsec / 1e3;
}

static int cmp_double(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return x < y ? -1 : x > y;
}

static double median_fork(void) {
  static double s[N];
  for (int i = 0; i < N; ++i) {
    double t0 = now_us();
    pid_t p = fork();
    if (p == 0) _exit(0);
    waitpid(p, NULL, 0);
    s[i] = now_us() - t0;
  }
  qsort(s, N, sizeof *s, cmp_double);
  return s[N / 2];
}

static void *nothing(void *a) { return a; }

static double median_thread(void) {
  static double s[N];
  for (int i = 0; i < N; ++i) {
    double t0 = now_us();
    pthread_t t;
    pthread_create(&t, NULL, nothing, NULL);
    pthread_join(t, NULL);
    s[i] = now_us() - t0;
  }
  qsort(s, N, sizeof *s, cmp_double);
  return s[N / 2];
}

int main(void) {
  double fork_native = median_fork(), thread_native = median_thread();
  int r = dune_init_and_enter();
  if (r) {
    printf("fork_cost: cannot enter Dune mode (%d)\n", r);
    return 1;
  }
  double fork_dune = median_fork(), thread_dune = median_thread();
  printf("%-28s %12s %12s %8s\n", "median of 200, microseconds", "native", "Dune mode", "ratio");
  printf("%-28s %12.1f %12.1f %8.1f\n", "fork + waitpid", fork_native, fork_dune, fork_dune / fork_native);
  printf("%-28s %12.1f %12.1f %8.1f\n", "pthread_create + join", thread_native, thread_dune,
         thread_dune / thread_native);
  return 0;
}
