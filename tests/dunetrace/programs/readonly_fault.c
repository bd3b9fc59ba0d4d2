/* readonly_fault.c - writes to a read-only page: SIGSEGV (no handler). */
#include <stdio.h>
#include <sys/mman.h>

#include "test_support.h"

__attribute__((noinline)) static void poke_readonly(volatile char *p) {
  p[8] = 42; /* LINE:poke */
}

int main(void) {
  int r = dune_init_and_enter();
  if (r) dune_test_skip_or_fail("readonly_fault", r);
  char *page = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (page == MAP_FAILED) return 1;
  page[0] = 1;
  if (mprotect(page, 4096, PROT_READ) != 0) return 1;
  printf("page %p\n", (void *)page);
  fflush(stdout);
  poke_readonly(page);
  return 0;
}
