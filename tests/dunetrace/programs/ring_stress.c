/* ring_stress.c THREADS CALLS - a process and its forked child each run THREADS
 * threads that make CALLS marker syscalls apiece, getpgid(0) .. getpgid(CALLS-1),
 * as fast as they can: more records at once than the trace ring holds, from
 * several writers, so that a tracer's lines can be checked complete and in each
 * thread's order. */
#define _GNU_SOURCE
#include <pthread.h>
#include <stdlib.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

static long g_calls;

static void *thread_main(void *arg) {
  (void)arg;
  for (long i = 0; i < g_calls; ++i) syscall(SYS_getpgid, i);
  return NULL;
}

static int with_threads(long n) {
  pthread_t t[64];
  if (n > 64) n = 64;
  for (long i = 0; i < n; ++i)
    if (pthread_create(&t[i], NULL, thread_main, NULL) != 0) return 1;
  for (long i = 0; i < n; ++i) pthread_join(t[i], NULL);
  return 0;
}

int main(int argc, char **argv) {
  long threads = argc > 1 ? atol(argv[1]) : 3;
  g_calls = argc > 2 ? atol(argv[2]) : 2000;
  pid_t child = fork();
  if (child < 0) return 1;
  int bad = with_threads(threads);
  if (child == 0) _exit(bad ? 1 : 0);
  int status = 0;
  waitpid(child, &status, 0);
  return !bad && WIFEXITED(status) && WEXITSTATUS(status) == 0 ? 0 : 1;
}
