/* raw_exit: the process's last thread ends with SYS_exit, not exit_group
 * (raw_exit alone: the main thread; raw_exit threads: the main thread first,
 * then the last other thread). Linux ends the process with the last thread's
 * status: 3, or 7.
 * raw_exit signal: as threads, but once the main thread has ended the other
 * one fails an mprotect and takes a signal to a handler and returns
 * from it: the library reads the memory map, writes the frame and reads it
 * back for a process whose pid now names a zombie without memory. */
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

static volatile sig_atomic_t handled;
static int with_signal;

static void on_usr1(int sig) {
  (void)sig;
  handled = 1;
}

static void *last(void *arg) {
  (void)arg;
  usleep(50000);
  if (with_signal) {
    size_t page = (size_t)sysconf(_SC_PAGESIZE);
    char *a = mmap(NULL, 2 * page, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (a == MAP_FAILED) syscall(SYS_exit, 2);
    a[0] = 'm';
    /* A failed mprotect: the library asks the kernel for the map after it. */
    munmap(a + page, page);
    int r = mprotect(a, 2 * page, PROT_READ);
    static const char kept[] = "raw_exit: memory kept\n";
    if (r == -1 && a[0] == 'm') (void)write(1, kept, sizeof kept - 1);
    syscall(SYS_tgkill, getpid(), (pid_t)syscall(SYS_gettid), SIGUSR1);
    static const char yes[] = "raw_exit: handler ran\n";
    static const char no[] = "raw_exit: handler did not run\n";
    if (handled)
      (void)write(1, yes, sizeof yes - 1);
    else
      (void)write(1, no, sizeof no - 1);
  }
  syscall(SYS_exit, 7);
  return NULL;
}

int main(int argc, char **argv) {
  printf("raw_exit: %s\n", argc > 1 ? argv[1] : "alone");
  fflush(stdout);
  with_signal = argc > 1 && strcmp(argv[1], "signal") == 0;
  if (with_signal) signal(SIGUSR1, on_usr1);
  if (argc > 1) {
    pthread_t t;
    if (pthread_create(&t, NULL, last, NULL) != 0) return 1;
  } else {
    syscall(SYS_exit, 3);
  }
  syscall(SYS_exit, 5);
  return 1;
}
