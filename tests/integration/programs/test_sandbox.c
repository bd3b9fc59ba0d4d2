/* test_sandbox: the original Dune's test_sandbox behaviour, written anew and
 * run inside a sandbox: threads each doing 10,000 malloc(4096)/free, then a
 * thread that forks, with TLS (FS base) checks in the thread and the child.
 * The sandbox's table is a clone of the process's; every syscall goes through
 * a filter that counts it and lets it pass, and refuses a few. */
#include <asm/prctl.h>
#include <dune/dune.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "test_support.h"

#define NUM_THREADS 10
#define SYS_DONE 1000 /* the sandboxed program's way back to its launcher */

static long allocations;
static atomic_int threads_done;
static uint64_t parent_fs;

static uint64_t fs_base(void) {
  uint64_t fs = 0;
  syscall(SYS_arch_prctl, ARCH_GET_FS, &fs);
  return fs;
}

static void *memory_worker(void *arg) {
  (void)arg;
  char **ptrs = malloc(sizeof(char *) * allocations);
  if (!ptrs) return NULL;
  for (long i = 0; i < allocations; ++i) {
    ptrs[i] = malloc(4096);
    if (!ptrs[i]) return NULL;
    ptrs[i][0] = (char)i;
    ptrs[i][4095] = (char)(i >> 8);
  }
  long bad = 0;
  for (long i = 0; i < allocations; ++i) {
    if (ptrs[i][0] != (char)i || ptrs[i][4095] != (char)(i >> 8)) ++bad;
    free(ptrs[i]);
  }
  free(ptrs);
  if (!bad) atomic_fetch_add(&threads_done, 1);
  return NULL;
}

static int test_thread_memory(void) {
  pthread_t t[NUM_THREADS];
  atomic_store(&threads_done, 0);
  for (int i = 0; i < NUM_THREADS; ++i)
    if (pthread_create(&t[i], NULL, memory_worker, NULL)) return 0;
  for (int i = 0; i < NUM_THREADS; ++i) pthread_join(t[i], NULL);
  return atomic_load(&threads_done) == NUM_THREADS;
}

static void *fork_worker(void *arg) {
  int *ok = arg;
  uint64_t mine = fs_base();
  /* A thread has TLS of its own. */
  if (mine == 0 || mine == parent_fs) return NULL;
  pid_t pid = fork();
  if (pid < 0) return NULL;
  if (pid == 0) {
    /* The child's only thread keeps the forking thread's TLS. */
    _exit(fs_base() == mine ? 42 : 1);
  }
  int st = 0;
  if (waitpid(pid, &st, 0) != pid) return NULL;
  *ok = WIFEXITED(st) && WEXITSTATUS(st) == 42;
  return NULL;
}

static int test_pthread_fork(void) {
  pthread_t t;
  int ok = 0;
  parent_fs = fs_base();
  if (pthread_create(&t, NULL, fork_worker, &ok)) return 0;
  pthread_join(t, NULL);
  return ok;
}

/* The sandboxed program: its result goes back through SYS_DONE. */
static void sandboxed_main(void) {
  int r = 0;
  if (test_thread_memory()) r |= 1;
  if (test_pthread_fork()) r |= 2;
  syscall(SYS_DONE, r);
  for (;;) syscall(SYS_exit, 99);
}

/* The launcher's filter. */
static atomic_long filtered;
static atomic_long refused;
static void filter(struct dune_tf *tf) {
  atomic_fetch_add(&filtered, 1);
  switch (tf->rax) {
    case SYS_DONE: dune_ret_from_user((int)tf->rdi);
    case SYS_unlink:
    case SYS_unlinkat:
    case SYS_execve:
    case SYS_ptrace:
      atomic_fetch_add(&refused, 1);
      tf->rax = (uint64_t)-EPERM;
      return;
    default: dune_passthrough_syscall(tf);
  }
}

int main(void) {
  int r = dune_init_and_enter();
  if (r) dune_test_skip_or_fail("test_sandbox", r);
  /* Quick (the emulated beds): every allocation that grows a thread's arena is
   * an mprotect through the filter, three emulated VM exits; 300 still grow
   * each arena by hundreds of pages. */
  allocations = dune_test_count(10000, 300);
  size_t stack_bytes = 1 << 20;
  char *stack = malloc(stack_bytes);
  ptent_t *box = dune_vm_clone(pgroot);
  if (!stack || !box || dune_set_user_root(box) || dune_register_syscall_handler(filter)) {
    fprintf(stderr, "test_sandbox: FAIL: cannot set the sandbox up\n");
    return 1;
  }
  struct dune_tf tf = {0};
  uintptr_t top = ((uintptr_t)stack + stack_bytes) & ~15ul;
  tf.rip = (uint64_t)sandboxed_main;
  tf.rsp = top - 8;
  tf.rflags = 0x2;
  r = dune_jump_to_user(&tf);
  printf("=========== test_thread_memory (%d threads x %ld malloc/free)\n%s\n", NUM_THREADS, allocations,
         r >= 0 && (r & 1) ? "PASSED" : "FAILED");
  printf("============ test_pthread_fork\n%s\n", r >= 0 && (r & 2) ? "PASSED" : "FAILED");
  long n = atomic_load(&filtered);
  printf("the filter saw %ld syscalls%s\n", n, n > NUM_THREADS ? "" : " (too few: FAILED)");
  dune_set_user_root(NULL);
  dune_vm_free(box);
  return r == 3 && n > NUM_THREADS ? 0 : 1;
}
