/* crash: ends the way its argument says: "segv", "abort", "fpe", or exit N. */
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static volatile uintptr_t nowhere = 16;

int main(int argc, char **argv) {
  if (argc < 2) return 2;
  printf("crash: %s\n", argv[1]);
  fflush(stdout);
  if (!strcmp(argv[1], "segv")) *(volatile int *)nowhere = 1;
  if (!strcmp(argv[1], "abort")) abort();
  if (!strcmp(argv[1], "fpe")) raise(SIGFPE);
  return atoi(argv[1]);
}
