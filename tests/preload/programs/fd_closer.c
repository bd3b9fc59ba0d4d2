/* fd_closer: closes every descriptor it did not open (close_range, then a loop
 * to the limit) and dup2()s over many numbers, then goes on working: threads,
 * a child, files. Under the shim none of this may touch the library's own
 * descriptors. */
#define _GNU_SOURCE
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

static void *work(void *arg) {
  long n = (long)arg, s = 0;
  for (long i = 0; i < 1000; ++i) s += getppid() > 0;
  return (void *)(s + n);
}

int main(void) {
  struct rlimit rl;
  getrlimit(RLIMIT_NOFILE, &rl);
  syscall(SYS_close_range, 3, ~0u, 0);
  int closed = 0;
  for (long fd = 3; fd < (long)rl.rlim_cur; ++fd) closed += close((int)fd) == 0;
  printf("fd_closer: descriptors closed by the loop: %d\n", closed);
  int duped = 0;
  for (long fd = 3; fd < (long)rl.rlim_cur; fd += 7) duped += dup2(2, (int)fd) == fd;
  for (long fd = 3; fd < (long)rl.rlim_cur; fd += 7) close((int)fd);
  printf("fd_closer: dup2 onto %d numbers\n", duped);
  pthread_t t[4];
  long sum = 0;
  for (long i = 0; i < 4; ++i) pthread_create(&t[i], NULL, work, (void *)i);
  for (int i = 0; i < 4; ++i) {
    void *r;
    pthread_join(t[i], &r);
    sum += (long)r;
  }
  printf("fd_closer: threads worked: %ld\n", sum);
  fflush(stdout);
  pid_t p = fork();
  if (p == 0) _exit(getppid() > 0 ? 7 : 1);
  int st;
  waitpid(p, &st, 0);
  printf("fd_closer: child exited with %d\n", WEXITSTATUS(st));
  char path[] = "/tmp/fd_closer_XXXXXX";
  int f = mkstemp(path);
  dprintf(f, "written");
  lseek(f, 0, SEEK_SET);
  char buf[16] = {0};
  ssize_t n = read(f, buf, sizeof buf - 1);
  close(f);
  unlink(path);
  printf("fd_closer: file read back: %s (%zd)\n", buf, n);
  return 0;
}
