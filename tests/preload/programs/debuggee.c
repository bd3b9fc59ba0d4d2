/* debuggee: a program to put a breakpoint in (work), under gdb with the shim
 * preloaded. Prints what it computed; exits with it.
 * debuggee wait: says "ready" and reads a line first (for a debugger to
 * attach meanwhile). */
#include <stdio.h>
#include <string.h>

__attribute__((noinline)) int work(int x) {
  volatile int y = x * 3;
  return y;
}

int main(int argc, char **argv) {
  if (argc > 1 && strcmp(argv[1], "wait") == 0) {
    printf("debuggee: ready\n");
    fflush(stdout);
    char line[64];
    if (!fgets(line, sizeof line, stdin)) return 2;
  }
  int r = work(5);
  printf("debuggee: work(5) = %d\n", r);
  return r;
}
