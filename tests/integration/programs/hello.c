/* hello: the original Dune's first test. Enters Dune mode, prints, divides by
 * zero and recovers in a Dune trap handler that redirects execution. */
#include <dune/dune.h>
#include <stdio.h>
#include <stdlib.h>

#include "test_support.h"

static void recover(void) {
  printf("hello: recovered from divide by zero\n");
  exit(0);
}

static void divide_by_zero_handler(struct dune_tf *tf) {
  printf("hello: caught divide by zero!\n");
  tf->rip = (uintptr_t)&recover;
}

/* An idiv the compiler cannot fold away (1 / x is undefined for x == 0, so C
 * alone does not promise a trap). */
static int divide(int a, int b) {
  int q;
  __asm__ volatile("cltd; idivl %2" : "=a"(q) : "a"(a), "r"(b) : "edx");
  return q;
}

int main(void) {
  volatile int ret;
  printf("hello: not running dune yet\n");
  fflush(stdout);
  ret = dune_init_and_enter();
  if (ret) {
    dune_test_skip_or_fail("hello", ret);
  }
  printf("hello: now printing from dune mode\n");
  dune_register_intr_handler(T_DIVIDE, divide_by_zero_handler);
  ret = divide(1, ret);
  printf("hello: we won't reach this call\n");
  return 1;
}
