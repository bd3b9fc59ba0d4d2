/* signal_restarts: where Linux interrupts a syscall for a signal, and where it
 * does not, in Dune mode exactly as natively (--native runs the same checks):
 * the restart rules (SA_RESTART against ERESTARTSYS, ERESTARTNOHAND,
 * ERESTART_RESTARTBLOCK), real-time signals queued past the library's own
 * queue (every one delivered once, in order), a signal sent to a child the
 * moment it is forked (it must arrive), and a thread that exits with signals
 * arriving (none lost for the others). */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "test_support.h"

static void check(int ok, const char *what) { dune_test_check("signal_restarts", ok, what); }

static atomic_long alarms;
static void on_alarm(int sig) {
  (void)sig;
  atomic_fetch_add(&alarms, 1);
}


static void real_timer(long usec) {
  usec = usec ? dune_test_usec(usec) : 0;
  struct itimerval it = {{usec / 1000000, usec % 1000000}, {usec / 1000000, usec % 1000000}};
  setitimer(ITIMER_REAL, &it, NULL);
}

/* A pipe nobody writes to until the writer thread is told to. */
static int pipe_fds[2];
static atomic_long write_after;
static void *late_writer(void *arg) {
  (void)arg;
  while (atomic_load(&alarms) < atomic_load(&write_after)) {
    struct timespec ts = {0, 1000000};
    nanosleep(&ts, NULL);
  }
  char c = 'z';
  if (write(pipe_fds[1], &c, 1) != 1) abort();
  return NULL;
}

/* 1. ERESTARTSYS: a blocking read is restarted with SA_RESTART (it returns the
 *    data once it comes, after several handlers) and fails with EINTR without. */
static void blocking_read_cases(void) {
  for (int restart = 1; restart >= 0; --restart) {
    if (pipe2(pipe_fds, O_CLOEXEC)) {
      check(0, "pipe");
      return;
    }
    atomic_store(&alarms, 0);
    dune_test_handle(SIGALRM, on_alarm, restart ? SA_RESTART : 0);
    pthread_t w;
    atomic_store(&write_after, restart ? 5 : 1L << 60);
    if (restart) pthread_create(&w, NULL, late_writer, NULL);
    real_timer(2000);
    char c = 0;
    long r = read(pipe_fds[0], &c, 1);
    int e = errno;
    real_timer(0);
    if (restart) {
      pthread_join(w, NULL);
      check(r == 1 && c == 'z' && atomic_load(&alarms) >= 5,
            "SA_RESTART: a blocking pipe read runs on through 5 handlers to its data");
    } else {
      check(r == -1 && e == EINTR && atomic_load(&alarms) >= 1, "no SA_RESTART: a blocking pipe read fails with EINTR");
    }
    close(pipe_fds[0]);
    close(pipe_fds[1]);
  }
}

/* 2. ERESTART_RESTARTBLOCK and ERESTARTNOHAND: nanosleep and pause are
 *    interrupted by a handled signal even with SA_RESTART. */
static void never_restarted_cases(void) {
  atomic_store(&alarms, 0);
  dune_test_handle(SIGALRM, on_alarm, SA_RESTART);
  real_timer(2000);
  struct timespec req = {30, 0}, rem = {0, 0};
  long r = nanosleep(&req, &rem);
  int e = errno;
  check(r == -1 && e == EINTR && rem.tv_sec < 30 && (rem.tv_sec > 0 || rem.tv_nsec > 0),
        "SA_RESTART: nanosleep fails with EINTR and says what was left");
  r = pause();
  e = errno;
  check(r == -1 && e == EINTR, "SA_RESTART: pause fails with EINTR");
  sigset_t none;
  sigemptyset(&none);
  r = sigsuspend(&none);
  e = errno;
  check(r == -1 && e == EINTR, "SA_RESTART: sigsuspend fails with EINTR");
  real_timer(0);
  signal(SIGALRM, SIG_IGN);
}

/* 3. Real-time signals queued while blocked, far more than the library's
 *    queue holds: all delivered, each once, in the order they were sent. */
static int rt_seen[4096];
static atomic_int rt_count;
static atomic_int rt_out_of_order;
static void on_rt(int sig, siginfo_t *si, void *uc) {
  (void)sig;
  (void)uc;
  int v = si->si_value.sival_int;
  int n = atomic_fetch_add(&rt_count, 1);
  if (v != n) atomic_fetch_add(&rt_out_of_order, 1);
  if (v >= 0 && v < 4096) ++rt_seen[v];
}

static void realtime_queue_case(void) {
  const int n = (int)dune_test_count(1000, 150);
  int sig = SIGRTMIN + 3;
  dune_test_handle_info(sig, on_rt, SA_RESTART);
  sigset_t set, old;
  sigemptyset(&set);
  sigaddset(&set, sig);
  sigprocmask(SIG_BLOCK, &set, &old);
  int sent = 0;
  for (int i = 0; i < n; ++i) {
    union sigval v = {.sival_int = i};
    if (sigqueue(getpid(), sig, v) == 0) ++sent;
  }
  sigprocmask(SIG_SETMASK, &old, NULL);
  int once = 1;
  for (int i = 0; i < sent; ++i) once &= rt_seen[i] == 1;
  char what[96];
  snprintf(what, sizeof what, "%d real-time signals queued while blocked: each delivered once", sent);
  check(sent == n && atomic_load(&rt_count) == sent && once, what);
  check(atomic_load(&rt_out_of_order) == 0, "real-time signals of one number come in the order sent");
  signal(sig, SIG_IGN);
}

/* 4. A child is sent a signal the moment fork returns in the parent: it
 *    arrives (natively it always does), however far the child has got. */
static volatile sig_atomic_t child_got;
static void on_usr2(int sig) {
  (void)sig;
  child_got = 1;
}

static void fork_signal_case(void) {
  dune_test_handle(SIGUSR2, on_usr2, SA_RESTART);
  const int rounds = (int)dune_test_count(10, 3);
  int ok = 0;
  for (int i = 0; i < rounds; ++i) {
    pid_t pid = fork();
    if (pid == 0) {
      /* Guard against a lost signal: SIGALRM's default action ends the child. */
      alarm(60);
      while (!child_got) getppid();
      _exit(0);
    }
    if (pid < 0) break;
    kill(pid, SIGUSR2);
    int st = 0;
    while (waitpid(pid, &st, 0) < 0 && errno == EINTR) {
    }
    if (WIFEXITED(st) && WEXITSTATUS(st) == 0) ++ok;
  }
  char what[96];
  snprintf(what, sizeof what, "a signal sent as fork returns reaches the child (%d of %d)", ok, rounds);
  check(ok == rounds, what);
  signal(SIGUSR2, SIG_IGN);
}

/* 5. Threads start and exit while a profiling timer keeps firing at the
 *    process: none of its signals is lost with an exiting thread, and the
 *    handler keeps running in the threads that remain. */
static atomic_long profs;
static void on_prof(int sig) {
  (void)sig;
  atomic_fetch_add(&profs, 1);
}
static void *short_thread(void *arg) {
  (void)arg;
  for (int i = 0; i < 200; ++i) getppid();
  return NULL;
}

static void thread_exit_case(void) {
  dune_test_handle(SIGPROF, on_prof, SA_RESTART);
  long period = dune_test_signal_period_usec(500);
  struct itimerval it = {{period / 1000000, period % 1000000}, {period / 1000000, period % 1000000}};
  setitimer(ITIMER_PROF, &it, NULL);
  const int n = (int)dune_test_count(200, 20);
  int created = 0;
  for (int i = 0; i < n; ++i) {
    pthread_t t;
    if (pthread_create(&t, NULL, short_thread, NULL) == 0) {
      ++created;
      pthread_join(t, NULL);
    }
  }
  /* With the threads gone the main thread still takes the timer's signals. */
  long before = atomic_load(&profs);
  struct timespec t0;
  clock_gettime(CLOCK_MONOTONIC, &t0);
  long limit_us = period * 100 > 5000000 ? period * 100 : 5000000;  /* wall time for 3 periods of CPU time, with a wide margin */
  for (long spent_us = 0; spent_us < limit_us && atomic_load(&profs) < before + 3;) {
    for (int i = 0; i < 100000; ++i) __asm__ volatile("" ::: "memory");
    spent_us = dune_test_nsec_since(&t0) / 1000;
  }
  struct itimerval off = {{0, 0}, {0, 0}};
  setitimer(ITIMER_PROF, &off, NULL);
  signal(SIGPROF, SIG_IGN);
  char what[96];
  snprintf(what, sizeof what, "%d threads started and ended under ITIMER_PROF", created);
  check(created == n, what);
  check(atomic_load(&profs) >= before + 3, "the timer's signals still reach the main thread after");
}

int main(int argc, char **argv) {
  dune_test_enter("signal_restarts", argc, argv);
  blocking_read_cases();
  never_restarted_cases();
  realtime_queue_case();
  fork_signal_case();
  thread_exit_case();
  printf("signal_restarts: %s\n", dune_test_failures ? "FAILED" : "ok");
  return dune_test_failures ? 1 : 0;
}
