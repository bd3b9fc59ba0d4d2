/* vm_appel: Appel and Li's virtual-memory benchmarks as correctness tests,
 * done with dune_vm_mprotect and a Dune page-fault handler (no signal, no host
 * mprotect): appel1 protects one page, traps on it and unprotects it in the
 * handler; appel2 protects all pages at once, then traps on each. 100 pages x
 * 1,000 passes (20 with DUNE_TEST_QUICK). */
#include <dune/dune.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>

#include "test_support.h"

#define PAGES 100
#define PAGE 4096ul

static volatile long faults;
static volatile long wrong_faults;
static char *region;

static void unprotect(uintptr_t addr, uint64_t fec, struct dune_tf *tf) {
  (void)tf;
  faults++;
  uintptr_t base = (uintptr_t)region;
  if (addr < base || addr >= base + PAGES * PAGE || !(fec & FEC_W) || !(fec & FEC_P)) {
    wrong_faults++;
    return;
  }
  dune_vm_mprotect(pgroot, (void *)(addr & ~(PAGE - 1)), PAGE, PERM_R | PERM_W);
}

int main(void) {
  int r = dune_init_and_enter();
  if (r) dune_test_skip_or_fail("vm_appel", r);
  long passes = dune_test_count(1000, 20);
  region = mmap(NULL, PAGES * PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  memset(region, 0, PAGES * PAGE);
  dune_register_pgflt_handler(unprotect);
  volatile long *words = (volatile long *)region;
  const long per_page = PAGE / sizeof(long);

  /* appel1: prot1 + trap + unprot. */
  long bad = 0;
  faults = 0;
  for (long pass = 0; pass < passes; ++pass) {
    for (long i = 0; i < PAGES; ++i) {
      if (dune_vm_mprotect(pgroot, region + i * PAGE, PAGE, PERM_R)) ++bad;
      if (words[i * per_page] != pass) ++bad; /* a read does not trap */
      words[i * per_page] = pass + 1;         /* a write does, once */
    }
  }
  int ok1 = bad == 0 && faults == passes * PAGES && wrong_faults == 0;
  printf("%s: appel1 (prot1+trap+unprot), %d pages x %ld passes: %ld faults, %ld wrong values\n",
         ok1 ? "ok" : "FAIL", PAGES, passes, faults, bad);

  /* appel2: protN + trap + unprot. */
  bad = 0;
  faults = 0;
  for (long pass = 0; pass < passes; ++pass) {
    if (dune_vm_mprotect(pgroot, region, PAGES * PAGE, PERM_R)) ++bad;
    for (long i = 0; i < PAGES; ++i) {
      if (words[i * per_page + 1] != pass) ++bad;
      words[i * per_page + 1] = pass + 1;
      words[i * per_page + 2] = pass + 1; /* the page is writable again: no trap */
    }
  }
  int ok2 = bad == 0 && faults == passes * PAGES && wrong_faults == 0;
  printf("%s: appel2 (protN+trap+unprot), %d pages x %ld passes: %ld faults, %ld wrong values\n",
         ok2 ? "ok" : "FAIL", PAGES, passes, faults, bad);
  return ok1 && ok2 ? 0 : 1;
}
