/* gdb_target: a program for the gdb server's tests (tests/preload/gdb_server.py).
 *   gdb_target basic   work() and bump() in the main thread, a vector sum in
 *                      SSE/AVX registers, bump() in a second thread; exits 15
 *   gdb_target segv    a store through a null pointer (no handler)
 *   gdb_target signal  raises SIGUSR1, which has a handler that says so; exits 3
 *   gdb_target spin [S] says "spinning", loops until `spinning` is cleared
 *                      (by gdb) or S seconds (60) pass; exits 4 (cleared) or 5
 *   gdb_target fork    forks; the child calls work() (a breakpoint of the
 *                      parent's must not hit it) and exits 7; the parent exits
 *                      with the child's status plus 1
 *   gdb_target spawn   runs "exit 6" with posix_spawn (a vfork child in the
 *                      parent's memory: gdb's breakpoint in execve must not
 *                      stop or kill it); exits with its status plus 1
 *   gdb_target dlopen  loads libm.so.6 with dlopen and calls its cbrt (a
 *                      breakpoint set before the load must hit); exits 9
 *   gdb_target exec    execs itself in basic mode (the new image waits for
 *                      gdb again only with DUNE_GDB_EXEC=1) */
#include <dlfcn.h>
#include <spawn.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

int counter;
volatile int spinning = 1;
double scale = 2.5;

__attribute__((noinline)) int work(int x) {
  volatile int y = x * 3;
  return y;
}

__attribute__((noinline)) void bump(int by) { counter += by; }

__attribute__((noinline)) double scaled(double a) { return a * scale; }

static void *second_thread(void *arg) {
  (void)arg;
  bump(100);
  return NULL;
}

static void on_usr1(int sig) {
  (void)sig;
  static const char msg[] = "gdb_target: handler ran\n";
  write(1, msg, sizeof msg - 1);
}

int main(int argc, char **argv) {
  const char *mode = argc > 1 ? argv[1] : "basic";
  setvbuf(stdout, NULL, _IONBF, 0);
  if (!strcmp(mode, "segv")) {
    printf("gdb_target: segv\n");
    *(volatile int *)16 = 1;
    return 0;
  }
  if (!strcmp(mode, "signal")) {
    signal(SIGUSR1, on_usr1);
    raise(SIGUSR1);
    printf("gdb_target: after the signal\n");
    return 3;
  }
  if (!strcmp(mode, "spin")) {
    printf("gdb_target: spinning\n");
    time_t end = time(NULL) + (argc > 2 ? atoi(argv[2]) : 60);
    while (spinning && time(NULL) < end) {
    }
    printf("gdb_target: spun\n");
    return spinning ? 5 : 4;
  }
  if (!strcmp(mode, "dlopen")) {
    void *m = dlopen("libm.so.6", RTLD_NOW);
    if (!m) return 98;
    /* cbrt: libm's own and no IFUNC (gdb cannot break on an IFUNC's target
     * before it is resolved, natively either). */
    double (*root)(double) = (double (*)(double))dlsym(m, "cbrt");
    printf("gdb_target: cbrt(27) = %.1f\n", root ? root(27.0) : -1.0);
    return 9;
  }
  if (!strcmp(mode, "exec")) {
    char *again[] = {argv[0], "basic", NULL};
    execv("/proc/self/exe", again);
    return 97;
  }
  if (!strcmp(mode, "spawn")) {
    extern char **environ;
    char *child_argv[] = {"sh", "-c", "exit 6", NULL};
    pid_t child;
    if (posix_spawn(&child, "/bin/sh", NULL, NULL, child_argv, environ) != 0) return 99;
    int status = 0;
    waitpid(child, &status, 0);
    printf("gdb_target: spawned status %d\n", WEXITSTATUS(status));
    return WEXITSTATUS(status) + 1;
  }
  if (!strcmp(mode, "fork")) {
    pid_t child = fork();
    if (child == 0) {
      work(1);
      _exit(7);
    }
    int status = 0;
    waitpid(child, &status, 0);
    printf("gdb_target: child status %d\n", WEXITSTATUS(status));
    return WEXITSTATUS(status) + 1;
  }
  int r = work(5);
  bump(1);
  bump(2);
  double d = scaled(1.5);
  pthread_t th;
  pthread_create(&th, NULL, second_thread, NULL);
  pthread_join(th, NULL);
  printf("gdb_target: work=%d counter=%d scaled=%.2f\n", r, counter, d);
  return r;
}
