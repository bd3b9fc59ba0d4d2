/* signal_exit: deaths and stops by signal give the parent the same wait
 * status in Dune mode as natively: uncaught SIGSEGV, SIGFPE, SIGABRT, kill -TERM
 * from another process, SIGSTOP then SIGCONT. */
#include <dune/dune.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include "test_support.h"

enum what { SEGV, FPE, ABRT, TERM_FROM_OUTSIDE, STOP_CONT, NWHAT };
static const char *names[] = {"uncaught SIGSEGV", "uncaught SIGFPE", "abort()", "kill -TERM from another process",
                              "SIGSTOP then SIGCONT"};

static volatile uintptr_t unmapped = 8;

static void act(enum what w) {
  switch (w) {
    case SEGV: *(volatile int *)unmapped = 1; break;
    case FPE: {
      int zero = 0;
      __asm__ volatile("cltd; idivl %0" : : "r"(zero), "a"(1) : "edx");
      break;
    }
    case ABRT: abort();
    case TERM_FROM_OUTSIDE:
      for (;;) pause();
    case STOP_CONT: {
      int rounds = 0;
      while (rounds < 50) { usleep(2000); ++rounds; }
      exit(9);
    }
    default: break;
  }
  exit(0);
}

/* Runs `w` in a child (in Dune mode if dune), as the parent sees it: the
 * statuses waitpid reports, joined. */
static void run(enum what w, int dune, char *out, size_t n) {
  int ready[2];
  if (pipe(ready)) exit(3);
  fflush(stdout);
  pid_t p = fork();
  if (p == 0) {
    if (dune && dune_init_and_enter()) _exit(100);
    if (write(ready[1], "r", 1) != 1) _exit(101);
    act(w);
  }
  char c;
  if (read(ready[0], &c, 1) != 1) exit(4);
  close(ready[0]);
  close(ready[1]);
  int status;
  out[0] = 0;
  if (w == TERM_FROM_OUTSIDE) {
    usleep(20000);
    kill(p, SIGTERM);
  }
  if (w == STOP_CONT) {
    kill(p, SIGSTOP);
    waitpid(p, &status, WUNTRACED);
    snprintf(out, n, "%s", WIFSTOPPED(status) ? "stopped " : "not-stopped ");
    kill(p, SIGCONT);
  }
  waitpid(p, &status, 0);
  size_t len = strlen(out);
  if (WIFSIGNALED(status))
    snprintf(out + len, n - len, "signal %d%s", WTERMSIG(status), WCOREDUMP(status) ? " core" : "");
  else
    snprintf(out + len, n - len, "exit %d", WEXITSTATUS(status));
}

int main(void) {
  struct rlimit no_core = {0, 0};
  setrlimit(RLIMIT_CORE, &no_core);
  int r = dune_init();
  if (r) dune_test_skip_or_fail("signal_exit", r);
  int failures = 0;
  for (int w = 0; w < NWHAT; ++w) {
    char native[64], dune[64];
    run(w, 0, native, sizeof native);
    run(w, 1, dune, sizeof dune);
    int ok = !strcmp(native, dune);
    printf("signal_exit: %-34s native: %-20s dune: %-20s %s\n", names[w], native, dune, ok ? "ok" : "FAIL");
    failures += !ok;
  }
  printf(failures ? "signal_exit: FAIL\n" : "signal_exit: ok\n");
  return failures ? 1 : 0;
}
