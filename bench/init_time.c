/* init_time: dune_init_and_enter() in a process with about 100 mappings. */
#include <dune/dune.h>
#include <stdio.h>
#include <sys/mman.h>
#include <time.h>

static int count_mappings(void) {
  FILE *f = fopen("/proc/self/maps", "r");
  int n = 0, c;
  while ((c = fgetc(f)) != EOF) n += c == '\n';
  fclose(f);
  return n;
}

int main(void) {
  /* Separate mappings: alternate protections so that the kernel cannot merge them. */
  for (int i = 0; count_mappings() < 100; ++i) {
    char *p = mmap(NULL, 3 * 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    mprotect(p + 4096, 4096, i % 2 ? PROT_READ : PROT_NONE);
    p[0] = 1;
  }
  int mappings = count_mappings();
  struct timespec a, b;
  clock_gettime(CLOCK_MONOTONIC, &a);
  int r = dune_init_and_enter();
  clock_gettime(CLOCK_MONOTONIC, &b);
  if (r) {
    printf("init_time: cannot enter Dune mode (%d)\n", r);
    return 1;
  }
  struct dune_stats st;
  dune_get_stats(&st);
  double ms = (b.tv_sec - a.tv_sec) * 1e3 + (b.tv_nsec - a.tv_nsec) / 1e6;
  printf("init_time: dune_init_and_enter with %d mappings (%llu slots): %.2f ms\n", mappings,
         (unsigned long long)st.memslots, ms);
  return 0;
}
