/* bad_input: misuse of the API gets a negative errno and a message, never a crash. */
#include <dune/dune.h>
#include <errno.h>
#include <stdio.h>

#include "test_support.h"

static void h(struct dune_tf *tf) { (void)tf; }
static int failures;

static void expect(int got, int want, const char *what) {
  printf("bad_input: %-40s -> %d (%s)\n", what, got, got == want ? "ok" : "FAIL");
  fflush(stdout);
  if (got != want) ++failures;
}

int main(void) {
  expect(dune_enter(), -EINVAL, "dune_enter before dune_init");
  expect(dune_register_intr_handler(-1, h), -EINVAL, "intr handler for vector -1");
  expect(dune_register_intr_handler(256, h), -EINVAL, "intr handler for vector 256");
  expect(dune_register_intr_handler(3, NULL), -EINVAL, "NULL intr handler");
  expect(dune_register_pgflt_handler(NULL), -EINVAL, "NULL page-fault handler");
  expect(dune_set_mem_budget(0), -EINVAL, "zero memory budget");
  expect(dune_get_stats(NULL), -EINVAL, "dune_get_stats(NULL)");
  struct dune_stats st;
  expect(dune_get_stats(&st), -EINVAL, "dune_get_stats before dune_init");
  expect(dune_is_active(), 0, "dune_is_active before dune_init");
  int r = dune_init();
  if (r) dune_test_skip_or_fail("bad_input", r);
  expect(dune_init(), -EALREADY, "dune_init twice");
  expect(dune_set_mem_budget(4096), -EBUSY, "budget below what is covered");
  expect(dune_enter(), 0, "dune_enter");
  expect(dune_enter(), 0, "dune_enter again (already in Dune mode)");
  expect(dune_init_and_enter(), 0, "dune_init_and_enter in Dune mode");
  expect(dune_is_active(), 1, "dune_is_active in Dune mode");
  expect(dune_register_intr_handler(300, h), -EINVAL, "intr handler for vector 300 in Dune mode");
  printf(failures ? "bad_input: FAIL\n" : "bad_input: ok\n");
  return failures ? 1 : 0;
}
