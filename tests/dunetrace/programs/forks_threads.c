/* forks_threads.c - a process with two threads that forks a child with a thread.
 * Every task prints "task PID TID" and then makes two marker syscalls:
 * getpgid(its tid) and getsid(its pid), so that a tracer's labels can be
 * checked against the arguments. */
#define _GNU_SOURCE
#include <pthread.h>
#include <stdio.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

static pthread_mutex_t g_print = PTHREAD_MUTEX_INITIALIZER;

static void mark(void) {
  pid_t pid = getpid(), tid = (pid_t)syscall(SYS_gettid);
  pthread_mutex_lock(&g_print);
  printf("task %d %d\n", pid, tid);
  fflush(stdout);
  pthread_mutex_unlock(&g_print);
  syscall(SYS_getpgid, tid);
  syscall(SYS_getsid, pid);
}

static void *thread_main(void *arg) {
  (void)arg;
  mark();
  return NULL;
}

static void with_threads(int n) {
  pthread_t t[2];
  for (int i = 0; i < n; ++i) pthread_create(&t[i], NULL, thread_main, NULL);
  mark();
  for (int i = 0; i < n; ++i) pthread_join(t[i], NULL);
}

int main(void) {
  with_threads(2);
  pid_t child = fork();
  if (child == 0) {
    with_threads(1);
    _exit(3);
  }
  int status = 0;
  waitpid(child, &status, 0);
  return WIFEXITED(status) && WEXITSTATUS(status) == 3 ? 0 : 1;
}
