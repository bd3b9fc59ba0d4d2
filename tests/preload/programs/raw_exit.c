/* raw_exit: the process's last thread ends with SYS_exit, not exit_group
 * (raw_exit alone: the main thread; raw_exit threads: the main thread first,
 * then the last other thread). Linux ends the process with the last thread's
 * status: 3, or 7. */
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

static void *last(void *arg) {
  (void)arg;
  usleep(50000);
  syscall(SYS_exit, 7);
  return NULL;
}

int main(int argc, char **argv) {
  printf("raw_exit: %s\n", argc > 1 ? argv[1] : "alone");
  fflush(stdout);
  if (argc > 1 && strcmp(argv[1], "threads") == 0) {
    pthread_t t;
    if (pthread_create(&t, NULL, last, NULL) != 0) return 1;
  } else {
    syscall(SYS_exit, 3);
  }
  syscall(SYS_exit, 5);
  return 1;
}
