/* fork: the original Dune's fork test, rewritten: a child forked in Dune mode
 * runs (in Dune mode, in a VM of its own) while the parent waits for it. */
#include <dune/dune.h>
#include <stdio.h>
#include <sys/wait.h>
#include <unistd.h>

#include "test_support.h"

int main(void) {
  int r = dune_init_and_enter();
  if (r) dune_test_skip_or_fail("fork", r);
  fflush(stdout);
  pid_t p = fork();
  if (p < 0) {
    perror("fork");
    return 1;
  }
  if (p == 0) {
    printf("in child (dune mode: %d)\n", dune_is_active());
    usleep(200 * 1000);
    printf("done sleeping\n");
    return 0;
  }
  usleep(1000);
  int status;
  if (waitpid(p, &status, 0) != p) {
    printf("waitpid error\n");
    return 1;
  }
  printf("done waiting: child exited with %d\n", WEXITSTATUS(status));
  return WIFEXITED(status) && WEXITSTATUS(status) == 0 ? 0 : 1;
}
