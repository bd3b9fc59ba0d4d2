/* signals.c - signals as dunetrace must show them.
 *
 *   signals handled    SIGUSR1 by raise() and SIGUSR2 by kill(), both to
 *                      handlers; the SIGUSR2 one runs on a sigaltstack and
 *                      makes a syscall there (which is no bad stack); exit 0
 *   signals segv       a write to a read-only page, caught by a SIGSEGV
 *                      handler that jumps out of it; exit 0
 *   signals term       SIGTERM to itself, default action: killed
 *   signals bus        reads a shared file mapping past the end of its file:
 *                      the host has nothing there, SIGBUS kills */
#define _GNU_SOURCE
#include <setjmp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <fcntl.h>
#include <sys/syscall.h>
#include <unistd.h>

static volatile int g_usr1, g_usr2;
static sigjmp_buf g_out;

static void on_usr1(int sig) {
  (void)sig;
  g_usr1 = 1;
}

static void on_usr2(int sig) {
  (void)sig;
  syscall(SYS_getppid); /* on the sigaltstack */
  g_usr2 = 1;
}

static void on_segv(int sig) {
  (void)sig;
  siglongjmp(g_out, 1);
}

__attribute__((noinline)) static void poke(volatile char *p) { p[0] = 1; }

static int handled(void) {
  static char alt[64 * 1024];
  stack_t ss = {.ss_sp = alt, .ss_size = sizeof alt, .ss_flags = 0};
  struct sigaction a1 = {.sa_handler = on_usr1}, a2 = {.sa_handler = on_usr2, .sa_flags = SA_ONSTACK};
  if (sigaltstack(&ss, NULL) || sigaction(SIGUSR1, &a1, NULL) || sigaction(SIGUSR2, &a2, NULL)) return 1;
  raise(SIGUSR1);
  kill(getpid(), SIGUSR2);
  return g_usr1 && g_usr2 ? 0 : 1;
}

static int segv(void) {
  char *page = mmap(NULL, 4096, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  struct sigaction a = {.sa_handler = on_segv};
  if (page == MAP_FAILED || sigaction(SIGSEGV, &a, NULL)) return 1;
  if (sigsetjmp(g_out, 1) == 0) {
    poke(page);
    return 1;
  }
  return 0;
}

static int bus(void) {
  char path[] = "/tmp/signals-bus.XXXXXX";
  int fd = mkstemp(path);
  if (fd < 0 || write(fd, "x", 1) != 1) return 1;
  unlink(path);
  volatile char *p = mmap(NULL, 8192, PROT_READ, MAP_SHARED, fd, 0);
  if (p == MAP_FAILED) return 1;
  return p[4096]; /* past the end of the file: LINE:bus */
}

int main(int argc, char **argv) {
  const char *mode = argc > 1 ? argv[1] : "";
  if (!strcmp(mode, "handled")) return handled();
  if (!strcmp(mode, "segv")) return segv();
  if (!strcmp(mode, "bus")) return bus();
  if (!strcmp(mode, "term")) {
    kill(getpid(), SIGTERM);
    return 1;
  }
  fprintf(stderr, "usage: signals handled|segv|term|bus\n");
  return 2;
}
