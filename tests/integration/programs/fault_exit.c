/* fault_exit: a fault with no handler ends the process with the signal and wait
 * status Linux gives it natively; exit statuses pass through unchanged. */
#include <dune/dune.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include "test_support.h"

enum what { WRITE_RO, READ_UNMAPPED, DIVIDE, UD2, INT3, ALIGN, PAST_EOF, EXIT42, NWHAT };
static const char *names[] = {"write to read-only page", "read of unmapped page", "divide by zero",
                              "invalid opcode", "int3", "alignment check", "read past end of file",
                              "exit(42)"};

/* A shared file mapping whose file is then truncated: the guest page stays
 * valid, the host has nothing behind it (Linux: SIGBUS). */
static char *truncated_file_page(void) {
  char path[] = "/tmp/dune-fault-exit-XXXXXX";
  int fd = mkstemp(path);
  unlink(path);
  if (fd < 0 || ftruncate(fd, 8192) != 0) exit(3);
  char *p = mmap(NULL, 8192, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
  if (p == MAP_FAILED) exit(3);
  p[0] = 1;
  if (ftruncate(fd, 0) != 0) exit(3);
  close(fd);
  return p;
}

static void crash(enum what w) {
  char *p = mmap(NULL, 8192, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  int zero = 0;
  switch (w) {
    case WRITE_RO: *(volatile char *)p = 1; break;
    case READ_UNMAPPED: munmap(p, 8192); (void)*(volatile char *)p; break;
    case DIVIDE: __asm__ volatile("cltd; idivl %0" : : "r"(zero), "a"(1) : "edx"); break;
    case UD2: __asm__ volatile("ud2"); break;
    case INT3: __asm__ volatile("int3"); break;
    case ALIGN: {
      static char buf[16] __attribute__((aligned(16)));
      __asm__ volatile("pushf; orl $0x40000, (%%rsp); popf; movl (%0), %%eax; pushf; andl $~0x40000, (%%rsp); popf"
                       : : "r"(buf + 1) : "eax", "memory");
      break;
    }
    case PAST_EOF: (void)*(volatile char *)(truncated_file_page() + 4096); break;
    case EXIT42: exit(42);
    default: break;
  }
  exit(0);
}

static int run_child(enum what w, int dune) {
  fflush(stdout); /* the child must not inherit unwritten output */
  pid_t pid = fork();
  if (pid == 0) {
    if (dune) {
      int r = dune_init_and_enter();
      if (r) _exit(100);
    }
    crash(w);
  }
  int status;
  waitpid(pid, &status, 0);
  return status;
}

static void describe(int status, char *buf, size_t n) {
  if (WIFSIGNALED(status))
    snprintf(buf, n, "killed by %s%s", strsignal(WTERMSIG(status)), WCOREDUMP(status) ? " (core)" : "");
  else
    snprintf(buf, n, "exit %d", WEXITSTATUS(status));
}

int main(void) {
  struct rlimit no_core = {0, 0};
  setrlimit(RLIMIT_CORE, &no_core);
  int probe = run_child(EXIT42, 1);
  if (WIFEXITED(probe) && WEXITSTATUS(probe) == 100) {
    int r = dune_init_and_enter(); /* learn why, for the message */
    dune_test_skip_or_fail("fault_exit", r ? r : -EIO);
  }
  int failures = 0;
  for (int w = 0; w < NWHAT; ++w) {
    int native = run_child(w, 0), dune = run_child(w, 1);
    char a[80], b[80];
    describe(native, a, sizeof a);
    describe(dune, b, sizeof b);
    int ok = native == dune;
    printf("fault_exit: %-24s native: %-28s dune: %-28s %s\n", names[w], a, b, ok ? "ok" : "FAIL");
    failures += !ok;
  }
  printf(failures ? "fault_exit: FAIL\n" : "fault_exit: ok\n");
  return failures ? 1 : 0;
}
