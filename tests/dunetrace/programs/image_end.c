/* image_end.c - N getppid syscalls when told to, from a library loaded then,
 * and the end of the image.
 *
 *   image_end N exit        prints "pid P", waits for a line on stdin, loads
 *                           libimage_end_late.so (beside it) and makes N
 *                           getppid syscalls there, exit 0
 *   image_end N exec PROG.. the same, then execs PROG with its arguments
 *   image_end N term        the same, then SIGTERM to itself (default action)
 *
 * A test stops dunetrace before the line: the events wait in its socket while
 * the image ends, at addresses of a mapping dunetrace has not seen yet; they
 * must still be symbolized against this image. */
#include <dlfcn.h>
#include <libgen.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int main(int argc, char **argv) {
  if (argc < 3) return 2;
  long n = atol(argv[1]);
  char lib[PATH_MAX];
  ssize_t len = readlink("/proc/self/exe", lib, sizeof lib - 32);
  if (len <= 0) return 2;
  lib[len] = 0;
  strcat(dirname(lib), "/libimage_end_late.so");
  printf("pid %d\n", getpid());
  fflush(stdout);
  char line[16];
  if (!fgets(line, sizeof line, stdin)) return 2;
  void *h = dlopen(lib, RTLD_NOW);
  long (*late_getppid)(void) = h ? (long (*)(void))dlsym(h, "late_getppid") : NULL;
  if (!late_getppid) {
    fprintf(stderr, "image_end: %s\n", dlerror());
    return 2;
  }
  for (long i = 0; i < n; ++i) late_getppid();
  if (strcmp(argv[2], "exec") == 0 && argc > 3) {
    execv(argv[3], argv + 3);
    return 127;
  }
  if (strcmp(argv[2], "term") == 0) kill(getpid(), SIGTERM);
  return 0;
}
