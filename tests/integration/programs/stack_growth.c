/* stack_growth: the main thread's stack grows in Dune mode as it does natively.
 * After dune_init, a recursion touches 6 MiB below the stack's lowest page so
 * far (within the default 8 MiB limit): every new page is a first touch below
 * the stack mapping, which the kernel grows on demand. The values written on
 * the way down are read back on the way up. */
#include <dune/dune.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "test_support.h"

#define FRAME_BYTES 4096
#define DEPTH (6 * 1024 * 1024 / FRAME_BYTES)

/* A frame of one page, filled with a pattern of its depth; returns the sum of
 * the patterns read back, so the compiler keeps every frame. */
static __attribute__((noinline)) uint64_t descend(int depth) {
  volatile uint8_t frame[FRAME_BYTES];
  for (int i = 0; i < FRAME_BYTES; i += 64) frame[i] = (uint8_t)depth;
  uint64_t below = depth ? descend(depth - 1) : 0;
  uint64_t sum = 0;
  for (int i = 0; i < FRAME_BYTES; i += 64) sum += frame[i];
  return below + sum;
}

int main(void) {
  int r = dune_init_and_enter();
  if (r) dune_test_skip_or_fail("stack_growth", r);
  uint64_t want = 0;
  for (int d = 0; d <= DEPTH; ++d) want += (uint64_t)(uint8_t)d * (FRAME_BYTES / 64);
  uint64_t got = descend(DEPTH);
  if (got != want) {
    printf("stack_growth: FAIL: read back %llu, wrote %llu\n", (unsigned long long)got,
           (unsigned long long)want);
    return 1;
  }
  printf("stack_growth: %d frames of %d bytes (6 MiB of new stack) written and read back: ok\n",
         DEPTH + 1, FRAME_BYTES);
  return 0;
}
