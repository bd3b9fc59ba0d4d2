/* signals: POSIX signals in Dune mode, with the kernel's semantics: handlers
 * run in the guest with the frame Linux builds, faults become the signals
 * Linux sends, masks, sigaltstack, sigsuspend, signalfd, timers, and blocking
 * syscalls interrupted and restarted as SA_RESTART says. */
#define _GNU_SOURCE
#include <dune/dune.h>
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/signalfd.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <time.h>
#include <ucontext.h>
#include <unistd.h>
#include <linux/futex.h>

#include "test_support.h"

static int failures;
static void check(int ok, const char *what) {
  printf("signals: %-62s %s\n", what, ok ? "ok" : "FAIL");
  fflush(stdout);
  if (!ok) ++failures;
}


/* 1. The garbage collector's pattern: SIGSEGV, mprotect, return, retry. */
static char *gc_page;
static volatile int segv_code;
static volatile uintptr_t segv_addr;
static volatile long segv_err, segv_trapno;
static void on_segv(int sig, siginfo_t *si, void *ucv) {
  ucontext_t *uc = ucv;
  (void)sig;
  segv_code = si->si_code;
  segv_addr = (uintptr_t)si->si_addr;
  segv_err = uc->uc_mcontext.gregs[REG_ERR];
  segv_trapno = uc->uc_mcontext.gregs[REG_TRAPNO];
  mprotect(gc_page, 4096, PROT_READ | PROT_WRITE);
}

/* 2. siglongjmp out of a handler. */
static sigjmp_buf jump;
static void on_fpe(int sig, siginfo_t *si, void *uc) {
  (void)sig; (void)uc;
  siglongjmp(jump, si->si_code);
}

/* 3. A handler that moves REG_RIP over a 2-byte ud2. */
static void on_ill(int sig, siginfo_t *si, void *ucv) {
  (void)sig; (void)si;
  ((ucontext_t *)ucv)->uc_mcontext.gregs[REG_RIP] += 2;
}

/* 4. Timers. */
static volatile int alarms;
static void on_alarm(int sig, siginfo_t *si, void *uc) {
  (void)sig; (void)si; (void)uc;
  ++alarms;
}

/* 5. Masks and frames. */
static volatile int usr1_count, nested_blocked;
static volatile uintptr_t handler_stack;
static void on_usr1(int sig, siginfo_t *si, void *uc) {
  (void)si; (void)uc;
  int local;
  handler_stack = (uintptr_t)&local;
  sigset_t now;
  sigprocmask(SIG_BLOCK, NULL, &now);
  nested_blocked = sigismember(&now, sig);
  ++usr1_count;
}

/* 6. FPU state: the handler clobbers vector registers. */
static void on_usr2(int sig, siginfo_t *si, void *uc) {
  (void)sig; (void)si; (void)uc;
  volatile double x = 1.5;
  for (int i = 0; i < 100; ++i) x = x * 1.0001 + 0.5;
  __asm__ volatile("xorps %%xmm0, %%xmm0; xorps %%xmm7, %%xmm7" ::: "xmm0", "xmm7");
}

/* 7. Blocking syscalls interrupted. */
static int pipe_fds[2];
static uint32_t futex_word;
static void on_alarm_wake(int sig, siginfo_t *si, void *uc) {
  (void)sig; (void)si; (void)uc;
  if (++alarms == 2) {
    futex_word = 1;
    syscall(SYS_futex, &futex_word, FUTEX_WAKE_PRIVATE, 1);
  }
}
static void on_alarm_write(int sig, siginfo_t *si, void *uc) {
  (void)sig; (void)si; (void)uc;
  ++alarms;
  if (alarms == 2) { char c = 'x'; if (write(pipe_fds[1], &c, 1) != 1) abort(); }
}

static struct itimerval every(long usec) {
  usec = dune_test_usec(usec);
  struct itimerval it = {{usec / 1000000, usec % 1000000}, {usec / 1000000, usec % 1000000}};
  return it;
}
static void arm(long usec) {
  struct itimerval it = every(usec);
  it.it_interval.tv_sec = it.it_interval.tv_usec = 0;
  setitimer(ITIMER_REAL, &it, NULL);
}

int main(int argc, char **argv) {
  dune_test_enter("signals", argc, argv);

  /* 1 */
  gc_page = mmap(NULL, 4096, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  dune_test_handle_info(SIGSEGV, on_segv, 0);
  gc_page[10] = 5;
  check(gc_page[10] == 5, "SIGSEGV handler mprotects and returns: the write completes");
  check(segv_code == SEGV_ACCERR && segv_addr == (uintptr_t)gc_page + 10, "si_code SEGV_ACCERR, si_addr the byte");
  check(segv_trapno == 14 && (segv_err & 2), "uc_mcontext: trapno 14, error code says write");
  munmap(gc_page, 4096);
  gc_page = mmap(NULL, 4096, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  munmap(gc_page, 4096);
  sigset_t none;
  sigemptyset(&none);
  signal(SIGSEGV, SIG_DFL);

  /* 2 */
  dune_test_handle_info(SIGFPE, on_fpe, 0);
  int code = sigsetjmp(jump, 1);
  if (code == 0) {
    int zero = 0;
    __asm__ volatile("cltd; idivl %0" : : "r"(zero), "a"(1) : "edx");
  }
  check(code == FPE_INTDIV, "siglongjmp out of a SIGFPE handler (si_code FPE_INTDIV)");
  sigset_t cur;
  sigprocmask(SIG_BLOCK, NULL, &cur);
  check(!sigismember(&cur, SIGFPE), "siglongjmp restored the signal mask");

  /* 3 */
  dune_test_handle_info(SIGILL, on_ill, 0);
  __asm__ volatile("ud2");
  check(1, "a handler that edits REG_RIP skips the faulting instruction");

  /* 4: SIGALRM from setitimer interrupts a CPU-bound loop 100 times (10 with
   * DUNE_TEST_QUICK). */
  const int want_alarms = (int)dune_test_count(100, 3);
  dune_test_handle_info(SIGALRM, on_alarm, SA_RESTART);
  struct itimerval it = every(1000);
  setitimer(ITIMER_REAL, &it, NULL);
  volatile uint64_t spin = 0;
  struct timespec t0, t1;
  clock_gettime(CLOCK_MONOTONIC, &t0);
  while (alarms < want_alarms) {
    ++spin;
    clock_gettime(CLOCK_MONOTONIC, &t1);
    if (t1.tv_sec - t0.tv_sec > 30 + dune_test_usec(100000) / 10000) break;
  }
  struct itimerval off = {{0, 0}, {0, 0}};
  setitimer(ITIMER_REAL, &off, NULL);
  check(alarms >= want_alarms, "SIGALRM from setitimer interrupts a busy loop 100 times");

  /* 5: blocked stays pending until unblocked; the handler runs with it blocked. */
  dune_test_handle_info(SIGUSR1, on_usr1, 0);
  sigset_t usr1;
  sigemptyset(&usr1);
  sigaddset(&usr1, SIGUSR1);
  sigprocmask(SIG_BLOCK, &usr1, NULL);
  raise(SIGUSR1);
  sigset_t pend;
  sigpending(&pend);
  check(usr1_count == 0 && sigismember(&pend, SIGUSR1), "a blocked signal stays pending");
  sigprocmask(SIG_UNBLOCK, &usr1, NULL);
  check(usr1_count == 1 && nested_blocked, "unblocked: delivered once, blocked inside its handler");

  dune_test_handle_info(SIGUSR1, on_usr1, SA_NODEFER);
  raise(SIGUSR1);
  check(usr1_count == 2 && !nested_blocked, "SA_NODEFER: not blocked inside the handler");
  dune_test_handle_info(SIGUSR1, on_usr1, SA_RESETHAND);
  raise(SIGUSR1);
  struct sigaction now;
  sigaction(SIGUSR1, NULL, &now);
  check(usr1_count == 3 && now.sa_handler == SIG_DFL, "SA_RESETHAND: back to SIG_DFL after one delivery");
  check((now.sa_flags & (SA_SIGINFO | SA_RESETHAND)) == (SA_SIGINFO | SA_RESETHAND),
        "SA_RESETHAND resets the handler alone: SA_SIGINFO and SA_RESETHAND stay (LTP sigaction01)");

  static char alt[64 * 1024];
  stack_t ss = {.ss_sp = alt, .ss_size = sizeof alt, .ss_flags = 0};
  check(sigaltstack(&ss, NULL) == 0, "sigaltstack");
  dune_test_handle_info(SIGUSR1, on_usr1, SA_ONSTACK);
  raise(SIGUSR1);
  check(handler_stack > (uintptr_t)alt && handler_stack < (uintptr_t)alt + sizeof alt,
        "SA_ONSTACK: the handler runs on the sigaltstack");
  stack_t old;
  sigaltstack(NULL, &old);
  check(old.ss_sp == alt && old.ss_size == sizeof alt && old.ss_flags == 0, "sigaltstack reads back");
  /* The kernel's minimum is 2048 bytes (x86-64), not glibc's dynamic MINSIGSTKSZ. */
  stack_t small = {.ss_sp = alt, .ss_size = 4096, .ss_flags = 0};
  stack_t tiny = {.ss_sp = alt, .ss_size = 2047, .ss_flags = 0};
  check(sigaltstack(&small, NULL) == 0 && sigaltstack(&tiny, NULL) == -1 && errno == ENOMEM &&
            sigaltstack(&ss, NULL) == 0,
        "sigaltstack: 4096 bytes taken, 2047 ENOMEM (LTP sigaltstack01)");

  /* sigsuspend: the handler runs under the suspend mask, the old mask returns. */
  sigprocmask(SIG_BLOCK, &usr1, NULL);
  dune_test_handle_info(SIGUSR1, on_usr1, 0);
  union sigval v = {0};
  sigqueue(getpid(), SIGUSR1, v); /* pending: blocked */
  int before = usr1_count;
  errno = 0;
  int sr = sigsuspend(&none);
  sigprocmask(SIG_BLOCK, NULL, &cur);
  check(sr == -1 && errno == EINTR && usr1_count == before + 1 && sigismember(&cur, SIGUSR1),
        "sigsuspend: EINTR after the handler, the blocked mask restored");
  sigprocmask(SIG_UNBLOCK, &usr1, NULL);

  /* signalfd */
  sigset_t usr2;
  sigemptyset(&usr2);
  sigaddset(&usr2, SIGUSR2);
  sigprocmask(SIG_BLOCK, &usr2, NULL);
  int sfd = signalfd(-1, &usr2, SFD_CLOEXEC);
  kill(getpid(), SIGUSR2);
  struct signalfd_siginfo fdsi;
  check(sfd >= 0 && read(sfd, &fdsi, sizeof fdsi) == sizeof fdsi && fdsi.ssi_signo == SIGUSR2 &&
            fdsi.ssi_pid == (uint32_t)getpid(),
        "signalfd reads a blocked SIGUSR2 with its sender");
  close(sfd);
  sigprocmask(SIG_UNBLOCK, &usr2, NULL);

  /* timer_create */
  alarms = 0;
  dune_test_handle_info(SIGRTMIN, on_alarm, 0);
  timer_t timer;
  struct sigevent sev = {.sigev_notify = SIGEV_SIGNAL, .sigev_signo = SIGRTMIN};
  long ns = dune_test_usec(2000) * 1000;
  struct itimerspec its = {{ns / 1000000000, ns % 1000000000}, {ns / 1000000000, ns % 1000000000}};
  timer_create(CLOCK_MONOTONIC, &sev, &timer);
  timer_settime(timer, 0, &its, NULL);
  const int ticks = (int)dune_test_count(10, 3);
  while (alarms < ticks) pause();
  timer_delete(timer);
  check(alarms >= ticks, "timer_create: 10 SIGRTMIN, pause() returns after each");

  /* 6: vector registers survive a handler that uses them. */
  dune_test_handle_info(SIGUSR2, on_usr2, 0);
  double in = 3.25, out;
  __asm__ volatile("movsd %1, %%xmm7\n"
                   "mov $62, %%eax\n" /* kill(getpid(), SIGUSR2) */
                   "syscall\n"
                   "movsd %%xmm7, %0\n"
                   : "=x"(out)
                   : "m"(in), "D"(getpid()), "S"(SIGUSR2)
                   : "rax", "rcx", "r11", "xmm7", "memory");
  check(out == 3.25, "xmm7 survives a signal handler that clobbers it");

  /* 7: a blocking read on a pipe, interrupted. */
  if (pipe(pipe_fds)) return 1;
  alarms = 0;
  dune_test_handle_info(SIGALRM, on_alarm_write, SA_RESTART);
  struct itimerval two = every(20000);
  setitimer(ITIMER_REAL, &two, NULL);
  char c = 0;
  ssize_t n = read(pipe_fds[0], &c, 1); /* restarted after the first alarm */
  setitimer(ITIMER_REAL, &off, NULL);
  check(n == 1 && c == 'x' && alarms >= 2, "SA_RESTART: read on a pipe restarts after the handler");

  alarms = 0;
  dune_test_handle_info(SIGALRM, on_alarm, 0);
  arm(20000);
  errno = 0;
  n = read(pipe_fds[0], &c, 1);
  check(n == -1 && errno == EINTR && alarms == 1, "without SA_RESTART: read returns EINTR");

  dune_test_handle_info(SIGALRM, on_alarm, SA_RESTART);
  arm(20000);
  struct timespec req = {5, 0}, rem = {0, 0};
  errno = 0;
  req.tv_sec += dune_test_usec(20000) / 1000000;
  int sr2 = nanosleep(&req, &rem);
  check(sr2 == -1 && errno == EINTR && rem.tv_sec >= 4, "nanosleep returns EINTR with the time left, even with SA_RESTART");

  arm(20000);
  struct pollfd pfd = {.fd = pipe_fds[0], .events = POLLIN};
  errno = 0;
  int pr = poll(&pfd, 1, 5000 + (int)(dune_test_usec(20000) / 1000));
  check(pr == -1 && errno == EINTR, "poll returns EINTR, even with SA_RESTART");

  /* futex: without a timeout ERESTARTSYS (restarted: the second alarm's
   * handler changes the word, so the restarted wait returns at once); with one,
   * a restart block (EINTR once a handler ran). As natively. */
  alarms = 0;
  futex_word = 0;
  dune_test_handle_info(SIGALRM, on_alarm_wake, SA_RESTART);
  setitimer(ITIMER_REAL, &two, NULL);
  errno = 0;
  long fr = syscall(SYS_futex, &futex_word, FUTEX_WAIT_PRIVATE, 0, NULL, NULL, 0);
  setitimer(ITIMER_REAL, &off, NULL);
  check(alarms >= 2 && (fr == 0 || errno == EAGAIN), "futex wait: restarted after the handler (SA_RESTART)");
  dune_test_handle_info(SIGALRM, on_alarm, SA_RESTART);
  arm(20000);
  futex_word = 0;
  struct timespec ft = {2 + dune_test_usec(20000) / 1000000, 0};
  errno = 0;
  fr = syscall(SYS_futex, &futex_word, FUTEX_WAIT_PRIVATE, 0, &ft, NULL, 0);
  check(fr == -1 && errno == EINTR, "futex wait with a timeout: EINTR after the handler");

  printf(failures ? "signals: FAIL\n" : "signals: ok\n");
  return failures ? 1 : 0;
}
