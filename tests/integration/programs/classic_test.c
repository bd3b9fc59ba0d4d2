/* classic_test: the original Dune's `test` program, rewritten: fork, pthread
 * and signal subtests, each run in a child process of a process in Dune mode. */
#include <dune/dune.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include "test_support.h"

#define PASSED 255

static int subtest_fork(void) {
  if (dune_enter()) return 1; /* already in Dune mode: 0 */
  pid_t pid = fork();
  if (pid < 0) return 3;
  if (pid == 0) exit(dune_is_active() ? 69 : 1);
  int status;
  if (waitpid(pid, &status, 0) < 0) return 5;
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 69) return 6;
  return dune_is_active() ? PASSED : 4;
}

static void *thread_body(void *arg) {
  (void)arg;
  return dune_is_active() ? (void *)0x666 : NULL;
}

static int subtest_pthread(void) {
  pthread_t t;
  void *ret;
  if (pthread_create(&t, NULL, thread_body, NULL)) return 2;
  if (pthread_join(t, &ret)) return 4;
  return ret == (void *)0x666 ? PASSED : 5;
}

static volatile sig_atomic_t signal_seen;
static void on_usr1(int sig) { signal_seen = sig == SIGUSR1 ? 666 : 1; }

static int subtest_signal(void) {
  if (signal(SIGUSR1, on_usr1) == SIG_ERR) return 1;
  if (kill(getpid(), SIGUSR1)) return 2;
  /* Delivered before kill() returned, as natively. */
  return signal_seen == 666 ? PASSED : 3;
}

static const struct {
  const char *name;
  int (*run)(void);
} tests[] = {{"fork", subtest_fork}, {"pthread", subtest_pthread}, {"signal", subtest_signal}};

int main(void) {
  int r = dune_init_and_enter();
  if (r) dune_test_skip_or_fail("classic_test", r);
  printf("Doing tests\n");
  int failures = 0;
  for (size_t i = 0; i < sizeof tests / sizeof *tests; ++i) {
    printf("==== Running test %s\n", tests[i].name);
    fflush(stdout);
    pid_t pid = fork();
    if (pid == 0) exit(tests[i].run());
    int status;
    waitpid(pid, &status, 0);
    int rc = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    printf("==== Test %s - %s", tests[i].name, rc == PASSED ? "passed" : "FAILED");
    if (WIFSIGNALED(status)) printf(" [crashed: signal %d]", WTERMSIG(status));
    if (rc != PASSED) printf(" rc %d", rc);
    printf("\n");
    failures += rc != PASSED;
  }
  printf("Done all tests\n");
  return failures ? 1 : 0;
}
