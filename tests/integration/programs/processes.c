/* processes: fork, vfork, posix_spawn and exec in Dune mode. A child that
 * execs /bin/true is reaped with status 0; a fork bomb of depth 3 (8
 * processes) runs all in Dune mode and is all reaped; SIGCHLD arrives for each
 * child; the new image after exec holds none of the library's descriptors. */
#define _GNU_SOURCE
#include <dirent.h>
#include <dune/dune.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "test_support.h"

extern char **environ;
static int failures;
static void check(int ok, const char *what) {
  printf("processes: %-58s %s\n", what, ok ? "ok" : "FAIL");
  fflush(stdout);
  if (!ok) ++failures;
}

/* After exec: no descriptor of the library may have survived. */
static int count_kvm_fds(void) {
  DIR *d = opendir("/proc/self/fd");
  int n = 0;
  struct dirent *e;
  while (d && (e = readdir(d))) {
    char path[300], target[256];
    snprintf(path, sizeof path, "/proc/self/fd/%s", e->d_name);
    ssize_t len = readlink(path, target, sizeof target - 1);
    if (len <= 0) continue;
    target[len] = 0;
    if (strstr(target, "kvm")) {
      printf("processes: leaked descriptor %s -> %s\n", e->d_name, target);
      ++n;
    }
  }
  if (d) closedir(d);
  return n;
}

static int wait_status(pid_t p) {
  int status = -1;
  if (waitpid(p, &status, 0) != p) return -1;
  return status;
}

/* fork(); fork(); fork(); - 8 processes. Each returns how many processes of
 * its subtree (itself included) ran in Dune mode. */
static int bomb(void) {
  pid_t kids[3];
  int nk = 0;
  for (int level = 0; level < 3; ++level) {
    fflush(stdout);
    pid_t p = fork();
    if (p == 0) {
      nk = 0; /* the child goes on forking at the next levels */
      continue;
    }
    kids[nk++] = p;
  }
  int total = dune_is_active();
  for (int i = 0; i < nk; ++i) {
    int st = wait_status(kids[i]);
    total += WIFEXITED(st) ? WEXITSTATUS(st) : 100;
  }
  return total;
}

static volatile sig_atomic_t sigchld_count;
static void on_sigchld(int sig) {
  (void)sig;
  ++sigchld_count;
}

int main(int argc, char **argv) {
  if (argc > 1 && !strcmp(argv[1], "--count-kvm-fds")) return count_kvm_fds();
  int r = dune_init_and_enter();
  if (r) dune_test_skip_or_fail("processes", r);

  struct sigaction sa = {0};
  sa.sa_handler = on_sigchld;
  sa.sa_flags = SA_RESTART;
  sigaction(SIGCHLD, &sa, NULL);

  fflush(stdout);
  pid_t p = fork();
  if (p == 0) {
    execl("/bin/true", "true", (char *)NULL);
    _exit(127);
  }
  int st = wait_status(p);
  check(WIFEXITED(st) && WEXITSTATUS(st) == 0, "fork, child execs /bin/true, waitpid sees 0");

  p = fork();
  if (p == 0) {
    execl("/proc/self/exe", argv[0], "--count-kvm-fds", (char *)NULL);
    _exit(127);
  }
  st = wait_status(p);
  check(WIFEXITED(st) && WEXITSTATUS(st) == 0, "after exec, no KVM descriptor is left open");

  p = vfork();
  if (p == 0) {
    execl("/bin/sh", "sh", "-c", "exit 3", (char *)NULL);
    _exit(127);
  }
  st = wait_status(p);
  check(WIFEXITED(st) && WEXITSTATUS(st) == 3, "vfork + exec of sh -c 'exit 3'");

  pid_t sp;
  char *args[] = {"sh", "-c", "exit 5", NULL};
  int e = posix_spawn(&sp, "/bin/sh", NULL, NULL, args, environ);
  st = e ? -1 : wait_status(sp);
  check(e == 0 && WIFEXITED(st) && WEXITSTATUS(st) == 5, "posix_spawn (CLONE_VM|CLONE_VFORK) of sh -c 'exit 5'");

  int before = sigchld_count;
  for (int i = 0; i < 5; ++i) {
    fflush(stdout);
    p = fork();
    if (p == 0) _exit(0);
    wait_status(p);
  }
  check(sigchld_count - before == 5, "SIGCHLD arrives for each of 5 children");

  fflush(stdout);
  p = fork();
  if (p == 0) _exit(bomb());
  st = wait_status(p);
  int ran = WIFEXITED(st) ? WEXITSTATUS(st) : 0;
  printf("processes: fork bomb of depth 3: %d of 8 processes in Dune mode\n", ran);
  check(ran == 8, "fork bomb of depth 3: 8 processes, all in Dune mode, all reaped");
  check(waitpid(-1, NULL, WNOHANG) == -1, "no child left");

  printf(failures ? "processes: FAIL\n" : "processes: ok\n");
  return failures ? 1 : 0;
}
