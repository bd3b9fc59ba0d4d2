/* mmap_churn: 10,000 mmap/munmap pairs (1 GiB mapped in all), with PROT_NONE
 * reservations made accessible, mremap growth and moves, and MAP_FIXED
 * replacement, leave the memory slots exactly where they started. */
#define _GNU_SOURCE
#include <dune/dune.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "test_support.h"


static int failures;
static void check(int ok, const char *what, int i) {
  if (!ok && failures++ < 10) printf("mmap_churn: FAIL at %d: %s\n", i, what);
}

/* Slots must be back where they were after every pair: say which pair first
 * left one behind (i % 100 == 1: mremap, 2: MAP_FIXED, i % 50 == 0: reservation). */
static void check_slots(const struct dune_stats *before, int i) {
  static int reported;
  struct dune_stats now;
  dune_get_stats(&now);
  if (!reported && (now.memslots != before->memslots || now.slot_bytes != before->slot_bytes)) {
    reported = 1;
    printf("mmap_churn: after pair %d: %llu slots covering %llu bytes\n", i,
           (unsigned long long)now.memslots, (unsigned long long)now.slot_bytes);
  }
}

int main(void) {
  int r = dune_init_and_enter();
  if (r) dune_test_skip_or_fail("mmap_churn", r);
  printf("mmap_churn: start\n");
  struct dune_stats before, after;
  dune_get_stats(&before);
  uint64_t total = 0;
  const int n = (int)dune_test_count(10000, 1000);
  for (int i = 0; i < n; ++i) {
    size_t len = (size_t)4096 * (1 + (i * 7) % 52); /* 4 KiB .. 212 KiB */
    char *p;
    if (i % 50 == 0) {
      /* A reservation (no slot) made accessible, as malloc arenas do. */
      p = mmap(NULL, len * 4, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
      check(p != MAP_FAILED, "reserve", i);
      check(mprotect(p, len, PROT_READ | PROT_WRITE) == 0, "mprotect", i);
      p[0] = 1;
      p[len - 1] = 2;
      check(p[0] + p[len - 1] == 3, "data after mprotect", i);
      check(munmap(p, len * 4) == 0, "munmap reservation", i);
      total += len * 4;
      check_slots(&before, i);
      continue;
    }
    p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    check(p != MAP_FAILED, "mmap", i);
    p[0] = (char)i;
    p[len - 1] = (char)(i + 1);
    if (i % 100 == 1) {
      /* Grow, maybe moving: the data follows. */
      char *q = mremap(p, len, len * 2, MREMAP_MAYMOVE);
      check(q != MAP_FAILED, "mremap", i);
      check(q[0] == (char)i && q[len - 1] == (char)(i + 1), "data after mremap", i);
      q[2 * len - 1] = 5;
      p = q;
      len *= 2;
    } else if (i % 100 == 2) {
      /* Replace the second half with a fresh mapping. */
      char *q = mmap(p + len / 2 / 4096 * 4096, 4096, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0);
      check(q != MAP_FAILED && q[0] == 0, "MAP_FIXED", i);
    } else {
      check(p[0] == (char)i && p[len - 1] == (char)(i + 1), "data", i);
    }
    check(munmap(p, len) == 0, "munmap", i);
    total += len;
    check_slots(&before, i);
  }
  dune_get_stats(&after);
  printf("mmap_churn: %d pairs, %llu MiB mapped in all\n", n, (unsigned long long)(total >> 20));
  printf("mmap_churn: slots %llu -> %llu, covered bytes %llu -> %llu\n",
         (unsigned long long)before.memslots, (unsigned long long)after.memslots,
         (unsigned long long)before.slot_bytes, (unsigned long long)after.slot_bytes);
  if (n >= 10000) check(total >= (1ull << 30), "less than 1 GiB mapped", -1);
  check(after.memslots == before.memslots, "slot count changed", -1);
  check(after.slot_bytes == before.slot_bytes, "covered bytes changed", -1);
  printf(failures ? "mmap_churn: FAIL\n" : "mmap_churn: ok\n");
  return failures ? 1 : 0;
}
