/* mem_budget: memory slots have a hard byte budget. Past it a syscall fails
 * with ENOMEM (and a message); PROT_NONE reservations cost nothing until they
 * become accessible. */
#include <dune/dune.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "test_support.h"

#define MiB (1ull << 20)
static int failures;
static void check(int ok, const char *what) {
  printf("mem_budget: %-55s %s\n", what, ok ? "ok" : "FAIL");
  fflush(stdout);
  if (!ok) ++failures;
}

int main(void) {
  int r = dune_init();
  if (r) dune_test_skip_or_fail("mem_budget", r);
  struct dune_stats st;
  dune_get_stats(&st);
  uint64_t budget = st.slot_bytes + 64 * MiB;
  check(dune_set_mem_budget(budget) == 0, "budget set to what is covered + 64 MiB");
  check(dune_get_mem_budget() == budget, "dune_get_mem_budget reads it back");
  r = dune_enter();
  if (r) dune_test_skip_or_fail("mem_budget", r);
  printf("mem_budget: in Dune mode\n");
  fflush(stdout);

  errno = 0;
  void *big = mmap(NULL, 128 * MiB, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  check(big == MAP_FAILED && errno == ENOMEM, "mmap of 128 MiB fails with ENOMEM");
  char *small = mmap(NULL, 16 * MiB, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  check(small != MAP_FAILED, "mmap of 16 MiB succeeds");
  if (small != MAP_FAILED) memset(small, 3, 16 * MiB);

  struct dune_stats before, after;
  dune_get_stats(&before);
  char *res = mmap(NULL, 1ull << 30, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
  dune_get_stats(&after);
  check(res != MAP_FAILED, "a 1 GiB PROT_NONE reservation succeeds");
  check(after.slot_bytes == before.slot_bytes, "and gets no memory slot");
  errno = 0;
  check(mprotect(res, 128 * MiB, PROT_READ | PROT_WRITE) == -1 && errno == ENOMEM,
        "making 128 MiB of it accessible fails with ENOMEM");
  check(mprotect(res, 16 * MiB, PROT_READ | PROT_WRITE) == 0, "making 16 MiB of it accessible works");
  if (res != MAP_FAILED) {
    res[0] = 1;
    res[16 * MiB - 1] = 2;
    check(res[0] + res[16 * MiB - 1] == 3, "and the memory is usable");
  }
  errno = 0;
  void *old_brk = sbrk(0);
  check(sbrk(128 * MiB) == (void *)-1 && errno == ENOMEM, "sbrk of 128 MiB fails with ENOMEM");
  check(sbrk(0) == old_brk, "and the break did not move");
  munmap(res, 1ull << 30);
  munmap(small, 16 * MiB);
  char *again = mmap(NULL, 48 * MiB, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  check(again != MAP_FAILED, "after unmapping, 48 MiB fit again");
  printf(failures ? "mem_budget: FAIL\n" : "mem_budget: ok\n");
  return failures ? 1 : 0;
}
