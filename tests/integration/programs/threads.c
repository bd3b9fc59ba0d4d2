/* threads: 16 threads making 10,000 syscalls each with correct results; 1,000
 * threads created and joined leave no vCPU behind; thread exit statuses,
 * exit_group from a thread, TLS and CLONE_CHILD_CLEARTID (pthread_join) work. */
#define _GNU_SOURCE
#include <dune/dune.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "test_support.h"

static int failures;
static void check(int ok, const char *what) {
  printf("threads: %-60s %s\n", what, ok ? "ok" : "FAIL");
  fflush(stdout);
  if (!ok) ++failures;
}

static __thread long tls_value;
static long ppid;

static void *syscaller(void *arg) {
  long id = (long)arg, bad = 0;
  tls_value = id * 1000;
  pid_t tid = (pid_t)syscall(SYS_gettid);
  for (long i = 0; i < dune_test_count(10000, 1000); ++i) {
    if (syscall(SYS_getppid) != ppid) ++bad;
    if (syscall(SYS_gettid) != tid) ++bad;
  }
  if (tls_value != id * 1000) ++bad;
  return (void *)bad;
}

static void *nothing(void *arg) { return arg; }

static void *exit_group_from_thread(void *arg) {
  (void)arg;
  exit(42);
}

int main(int argc, char **argv) {
  dune_test_enter("threads", argc, argv);
  ppid = getppid();
  pthread_t t[16];
  for (long i = 0; i < 16; ++i) pthread_create(&t[i], NULL, syscaller, (void *)i);
  long bad = 0;
  for (int i = 0; i < 16; ++i) {
    void *ret;
    pthread_join(t[i], &ret);
    bad += (long)ret;
  }
  check(bad == 0, "16 threads x 10,000 getppid+gettid, each right (1,000 with DUNE_TEST_QUICK)");

  for (long i = 0; i < dune_test_count(1000, 100); ++i) {
    pthread_t x;
    void *ret = NULL;
    if (pthread_create(&x, NULL, nothing, (void *)i) || pthread_join(x, &ret) || ret != (void *)i) {
      check(0, "create and join 1,000 threads (100 with DUNE_TEST_QUICK)");
      break;
    }
  }
  struct dune_stats st;
  dune_get_stats(&st);
  fprintf(stderr, "threads: after all threads joined: %llu vCPUs alive\n", (unsigned long long)st.vcpus);
  check(!dune_is_active() || st.vcpus == 1, "no vCPU left behind");

  fflush(stdout);
  pid_t p = fork();
  if (p == 0) {
    pthread_t x;
    pthread_create(&x, NULL, exit_group_from_thread, NULL);
    pthread_join(x, NULL);
    _exit(1);
  }
  int status;
  waitpid(p, &status, 0);
  check(WIFEXITED(status) && WEXITSTATUS(status) == 42, "exit() from a thread ends the process, status 42");
  printf(failures ? "threads: FAIL\n" : "threads: ok\n");
  return failures ? 1 : 0;
}
