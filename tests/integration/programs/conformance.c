/* conformance: behaviours the Linux Test Project's syscall tests found
 * different in Dune mode (issue 22), each checked against what Linux does:
 * run with --native the same checks state the kernel's answers.
 *   clone07/08    glibc clone() with a stack of its own and no CLONE_VM
 *   clone302      clone3() validates its size and stack as the kernel does
 *   close_range01 a child sharing the descriptor table (CLONE_FILES, no
 *                 CLONE_VM) closes everything; the parent lives on
 *   mprotect04    code runs from a PROT_EXEC-only page
 *   dup06/dup205  every number below RLIMIT_NOFILE is the program's
 *   fork09        a child of a parent whose table is full builds its VM
 *   signal06      a signal whose frame cannot be written is a SIGSEGV to
 *                 the program, and the FPU state survives both
 * and, from issue 21, privileged instructions and port I/O (the library's
 * ports too) are the SIGSEGV Linux sends. */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/close_range.h>
#include <linux/sched.h>
#include <poll.h>
#include <pthread.h>
#include <sched.h>
#include <setjmp.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/select.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "test_support.h"

static int failures;
static void check(int ok, const char *what) {
  printf("conformance: %-60s %s\n", what, ok ? "ok" : "FAIL");
  fflush(stdout);
  if (!ok) ++failures;
}

static int exit_code_of(pid_t pid) {
  int status = 0;
  if (waitpid(pid, &status, 0) != pid) return -1;
  if (WIFSIGNALED(status)) return 1000 + WTERMSIG(status);
  return WEXITSTATUS(status);
}

/* 1. clone07/08: a child process on its own stack, as glibc's clone() makes it. */
static int own_stack_child(void *arg) {
  char here;
  uintptr_t lo = (uintptr_t)arg, sp = (uintptr_t)&here;
  return (sp > lo && sp < lo + 65536) ? 7 : 3;
}

static void clone_with_own_stack(void) {
  char *stack = mmap(NULL, 65536, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  pid_t pid = clone(own_stack_child, stack + 65536, SIGCHLD, stack);
  check(pid > 0 && exit_code_of(pid) == 7, "clone(fn, own stack, SIGCHLD): fn runs there, its status");
  pid = clone(own_stack_child, stack + 65536, CLONE_FILES | SIGCHLD, stack);
  check(pid > 0 && exit_code_of(pid) == 7, "the same with CLONE_FILES");
  munmap(stack, 65536);
  /* clone07: the stack from malloc, fn returning 0, the parent in wait(). */
  char *heap_stack = malloc(16384);
  pid = clone(own_stack_child, heap_stack + 16384, SIGCHLD, heap_stack);
  check(pid > 0 && exit_code_of(pid) == 7, "clone(fn, a stack from malloc, SIGCHLD)");
  free(heap_stack);
}

/* 2. clone302: clone3's checks of its arguments. */
struct clone3_args {
  uint64_t flags, pidfd, child_tid, parent_tid, exit_signal, stack, stack_size, tls;
  uint64_t set_tid, set_tid_size, cgroup;
};

static long clone3_errno(const void *args, size_t size) {
  long r = syscall(SYS_clone3, args, size);
  if (r == 0) _exit(0); /* a child the kernel would not have made */
  if (r > 0) {
    exit_code_of((pid_t)r);
    return 0;
  }
  return errno;
}

static void clone3_validation(void) {
  /* The struct ends at a page's end, an unmapped page after it. */
  char *pages = mmap(NULL, 8192, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  munmap(pages + 4096, 4096);
  struct clone3_args *a = (struct clone3_args *)(pages + 4096 - sizeof *a);
  memset(a, 0, sizeof *a);
  a->exit_signal = SIGCHLD;
  static uint64_t stack_word;
  check(clone3_errno(a, 0) == EINVAL, "clone3: size 0 is EINVAL");
  check(clone3_errno(a, 63) == EINVAL, "clone3: size below CLONE_ARGS_SIZE_VER0 is EINVAL");
  check(clone3_errno(a, sizeof *a + 1) == EFAULT, "clone3: a size past the mapping is EFAULT");
  check(clone3_errno(a, 8192) == E2BIG, "clone3: a size over a page is E2BIG");
  check(clone3_errno((void *)(pages + 4096), sizeof *a) == EFAULT, "clone3: unmapped arguments are EFAULT");
  a->stack = (uint64_t)&stack_word;
  check(clone3_errno(a, sizeof *a) == EINVAL, "clone3: a stack of size 0 is EINVAL");
  a->stack = 0;
  a->stack_size = 4;
  check(clone3_errno(a, sizeof *a) == EINVAL, "clone3: a size without a stack is EINVAL");
  a->stack_size = 0;
  a->exit_signal = 65;
  check(clone3_errno(a, sizeof *a) == EINVAL, "clone3: exit signal past CSIGNAL is EINVAL");
  a->exit_signal = SIGCHLD;
  a->set_tid_size = 1;
  check(clone3_errno(a, sizeof *a) == EINVAL, "clone3: set_tid_size without set_tid is EINVAL");
  a->set_tid_size = 0;
  /* A bigger struct whose extra bytes are zero is taken; nonzero is E2BIG. */
  char big[sizeof *a + 8];
  memset(big, 0, sizeof big);
  memcpy(big, a, sizeof *a);
  check(clone3_errno(big, sizeof big) == 0, "clone3: a longer struct, zero past the known fields, works");
  big[sizeof *a + 3] = 1;
  check(clone3_errno(big, sizeof big) == E2BIG, "clone3: nonzero bytes past the known fields are E2BIG");
  munmap(pages, 4096);
}

/* 3. close_range01: a child process sharing the table closes it all. */
static int closing_child(void *arg) {
  (void)arg;
  if (syscall(SYS_close_range, 3, ~0U, 0) != 0) return 2;
  return fcntl(3, F_GETFD) == -1 && errno == EBADF ? 0 : 3;
}

static int unsharing_child(void *arg) {
  int fd = *(int *)arg;
  if (syscall(SYS_close_range, fd, fd, CLOSE_RANGE_UNSHARE) != 0) return 2;
  return fcntl(fd, F_GETFD) == -1 && errno == EBADF ? 0 : 3;
}

static void close_range_shared_table(void) {
  check(syscall(SYS_close_range, 4, 3, 0) == -1 && errno == EINVAL, "close_range(4, 3): EINVAL");
  check(syscall(SYS_close_range, 3, ~0U, ~0U) == -1 && errno == EINVAL, "close_range with unknown flags: EINVAL");
  check(syscall(SYS_close_range, ~0U, ~0U, 0) == 0, "close_range(~0U, ~0U): nothing to close, 0");
  int fd = open("/dev/null", O_RDONLY);
  int high = dup2(fd, 100);
  char *stack = mmap(NULL, 65536, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  pid_t pid = clone(unsharing_child, stack + 65536, CLONE_FILES | SIGCHLD, &fd);
  check(pid > 0 && exit_code_of(pid) == 0 && fcntl(fd, F_GETFD) >= 0,
        "a CLONE_FILES child's CLOSE_RANGE_UNSHARE leaves the parent's open");
  pid = clone(closing_child, stack + 65536, CLONE_FILES | SIGCHLD, NULL);
  check(pid > 0 && exit_code_of(pid) == 0, "a CLONE_FILES child process: close_range(3, ~0U)");
  check(fcntl(fd, F_GETFD) == -1 && fcntl(high, F_GETFD) == -1, "the shared table lost them in the parent too");
  /* The parent still runs, syscalls and faults included. */
  char *p = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  p[0] = 1;
  check(p[0] == 1 && getpid() > 0, "the parent goes on (memory, syscalls)");
  munmap(p, 4096);
  fd = open("/dev/null", O_RDONLY);
  check(syscall(SYS_close_range, 3, ~0U, CLOSE_RANGE_CLOEXEC) == 0 && (fcntl(fd, F_GETFD) & FD_CLOEXEC),
        "close_range CLOSE_RANGE_CLOEXEC marks the program's");
  check(syscall(SYS_close_range, 3, ~0U, CLOSE_RANGE_UNSHARE) == 0 && fcntl(fd, F_GETFD) == -1,
        "close_range CLOSE_RANGE_UNSHARE closes them");
  munmap(stack, 65536);
}

/* 4. mprotect04: code in a page that is PROT_EXEC only. */
static void exec_only_page(void) {
  unsigned char *page = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  static const unsigned char code[] = {0xb8, 42, 0, 0, 0, 0xc3}; /* mov $42, %eax; ret */
  memcpy(page, code, sizeof code);
  check(mprotect(page, 4096, PROT_EXEC) == 0, "mprotect(PROT_EXEC)");
  int (*fn)(void) = (int (*)(void))page;
  check(fn() == 42, "a call into the PROT_EXEC-only page runs its code");
  munmap(page, 4096);
}

/* 5. dup06: the program can fill its table below the soft limit. */
static void every_number_is_the_programs(void) {
  struct rlimit rl;
  getrlimit(RLIMIT_NOFILE, &rl);
  int limit = (int)(rl.rlim_cur < 4096 ? rl.rlim_cur : 4096);
  struct rlimit small = {(rlim_t)limit, rl.rlim_max};
  setrlimit(RLIMIT_NOFILE, &small);
  int free_numbers = 0;
  for (int fd = 0; fd < limit; ++fd)
    if (fcntl(fd, F_GETFD) == -1 && errno == EBADF) ++free_numbers;
  int *fds = calloc((size_t)limit, sizeof *fds), n = 0;
  int first = open("/dev/null", O_RDONLY);
  if (first >= 0) fds[n++] = first;
  while (n < limit) {
    int d = dup(first);
    if (d < 0) break;
    fds[n++] = d;
  }
  int dup_errno = errno;
  check(n == free_numbers && dup_errno == EMFILE, "dup fills every free number below RLIMIT_NOFILE, then EMFILE");
  /* 6. fork09: a child with the full table works, and can open once it closed one. */
  fflush(stdout);
  pid_t pid = fork();
  if (pid == 0) {
    close(fds[n - 1]);
    int again = open("/dev/null", O_RDONLY);
    _exit(again == fds[n - 1] ? 0 : 4);
  }
  check(pid > 0 && exit_code_of(pid) == 0, "fork with a full table: the child closes one, opens one");
  for (int i = 0; i < n; ++i) close(fds[i]);
  free(fds);
  setrlimit(RLIMIT_NOFILE, &rl);
}

/* 7. signal06: a frame that cannot be written becomes SIGSEGV. */
static char altstack[4096 * 10] __attribute__((aligned(4096)));
static volatile int hups, segvs;
static void on_hup(int sig) {
  (void)sig;
  ++hups;
}
static void on_segv(int sig) {
  (void)sig;
  ++segvs;
}

static void unwritable_signal_frame(void) {
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = on_segv;
  sigaction(SIGSEGV, &sa, NULL);
  stack_t st = {.ss_sp = altstack, .ss_size = sizeof altstack, .ss_flags = 0};
  sigaltstack(&st, NULL);
  sa.sa_handler = on_hup;
  sa.sa_flags = SA_ONSTACK;
  sigaction(SIGHUP, &sa, NULL);
  mprotect(altstack, sizeof altstack, PROT_READ);
  /* The value lives in xmm7 across the syscall and both signals, as in
   * signal06 where the compiler keeps a double in a register. */
  long tid = gettid();
  volatile double d = 123.456;
  double in = d;
  register double x __asm__("xmm7") = in;
  __asm__ volatile("syscall" : "+x"(x) : "a"(SYS_tkill), "D"(tid), "S"(SIGHUP) : "rcx", "r11", "memory");
  check(hups == 0 && segvs == 1, "SIGHUP on a read-only sigaltstack: SIGSEGV to its handler");
  check(x == 123.456, "an xmm register holds its value across both");
  mprotect(altstack, sizeof altstack, PROT_READ | PROT_WRITE);
  raise(SIGHUP);
  check(hups == 1, "with the stack writable again SIGHUP runs its handler");
  st.ss_flags = SS_DISABLE;
  sigaltstack(&st, NULL);
  signal(SIGSEGV, SIG_DFL);
  signal(SIGHUP, SIG_DFL);
}

/* 8. Privileged instructions and port I/O from the program, the library's
 * hypercall ports included: the SIGSEGV Linux sends for a #GP (SI_KERNEL),
 * never the library acting on them (issue 21). */
static sigjmp_buf hostile_jump;
static volatile int hostile_sig, hostile_code;
static void on_hostile(int sig, siginfo_t *si, void *uc) {
  (void)uc;
  hostile_sig = sig;
  hostile_code = si->si_code;
  siglongjmp(hostile_jump, 1);
}
static void out_0x40(void) { __asm__ volatile("outb %%al, $0x40" ::"a"(0)); }
static void out_0x41(void) { __asm__ volatile("outb %%al, $0x41" ::"a"(0)); }
static void out_0x42(void) { __asm__ volatile("outb %%al, $0x42" ::"a"(1)); }
static void in_0x42(void) { __asm__ volatile("inb $0x42, %%al" ::: "rax"); }
static void out_dx_0x42(void) { __asm__ volatile("outb %%al, %%dx" ::"a"(1), "d"(0x42)); }
static void out_0x20(void) { __asm__ volatile("outb %%al, $0x20" ::"a"(0)); }
static void do_hlt(void) { __asm__ volatile("hlt"); }
static void do_cli(void) { __asm__ volatile("cli"); }

static void privileged_instructions(void) {
  struct {
    void (*fn)(void);
    const char *what;
  } cases[] = {{out_0x40, "outb to 0x40 (the syscall report)"},   {out_0x41, "outb to 0x41 (the trap return)"},
               {out_0x42, "outb to 0x42 (the hypercall port)"},   {in_0x42, "inb from 0x42"},
               {out_dx_0x42, "outb %al, %dx to 0x42"},            {out_0x20, "outb to 0x20 (an exception report)"},
               {do_hlt, "hlt"},                                   {do_cli, "cli"}};
  struct sigaction sa, old;
  memset(&sa, 0, sizeof sa);
  sa.sa_sigaction = on_hostile;
  sa.sa_flags = SA_SIGINFO | SA_NODEFER;
  sigaction(SIGSEGV, &sa, &old);
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; ++i) {
    hostile_sig = 0;
    if (!sigsetjmp(hostile_jump, 1)) cases[i].fn();
    char what[96];
    snprintf(what, sizeof what, "%s: SIGSEGV, SI_KERNEL", cases[i].what);
    check(hostile_sig == SIGSEGV && hostile_code == SI_KERNEL, what);
  }
  sigaction(SIGSEGV, &old, NULL);
}

/* 9. Descriptors the program did not open are closed numbers to every call,
 * the library's in Dune mode included (issue 21): a listing of /proc/self/fd
 * names only descriptors fcntl knows, and every number that fcntl calls
 * closed is closed to fstat, read, lseek, ioctl, mmap, *at calls, poll and
 * select as well. */
static int open_to_fcntl(int fd) { return fcntl(fd, F_GETFD) != -1 || errno != EBADF; }

static void only_own_descriptors(void) {
  int listed = 0, strangers = 0;
  DIR *d = opendir("/proc/self/fd");
  struct dirent *e;
  while (d && (e = readdir(d))) {
    if (e->d_name[0] < '0' || e->d_name[0] > '9') continue;
    ++listed;
    if (!open_to_fcntl(atoi(e->d_name))) ++strangers;
  }
  if (d) closedir(d);
  check(listed >= 3 && strangers == 0, "/proc/self/fd lists only descriptors the program has");
  struct rlimit rl;
  getrlimit(RLIMIT_NOFILE, &rl);
  long top = (long)rl.rlim_cur + 256;
  if (top > 70000) top = 70000;
  int closed = 0, inconsistent = 0;
  for (int fd = 0; fd < top; ++fd) {
    if (open_to_fcntl(fd)) continue;
    ++closed;
    struct stat st;
    char byte;
    struct pollfd p = {fd, POLLIN, 0};
    int bad = 0;
    bad |= fstat(fd, &st) != -1 || errno != EBADF;
    if (fd >= (long)rl.rlim_cur * 3 / 4) {
      /* The numbers where a library keeps its own: every call. */
      bad |= read(fd, &byte, 1) != -1 || errno != EBADF;
      bad |= lseek(fd, 0, SEEK_SET) != -1 || errno != EBADF;
      bad |= ioctl(fd, FIONREAD, &st) != -1 || errno != EBADF;
      bad |= mmap(NULL, 4096, PROT_READ, MAP_SHARED, fd, 0) != MAP_FAILED || errno != EBADF;
      bad |= openat(fd, "x", O_RDONLY) != -1 || errno != EBADF;
      bad |= poll(&p, 1, 0) != 1 || p.revents != POLLNVAL;
      if (fd < FD_SETSIZE) {
        fd_set set;
        FD_ZERO(&set);
        FD_SET(fd, &set);
        struct timeval zero = {0, 0};
        bad |= select(fd + 1, &set, NULL, NULL, &zero) != -1 || errno != EBADF;
      }
    }
    if (bad) {
      if (inconsistent < 3) printf("conformance: descriptor %d: closed to fcntl, not to every call\n", fd);
      ++inconsistent;
    }
  }
  check(closed > 0 && inconsistent == 0, "a number fcntl calls closed is closed to every call");
  int fd = open("/dev/null", O_RDONLY);
  check(openat(fd, "/dev/null", O_RDONLY) >= 0, "an absolute path ignores openat's descriptor");
}

int main(int argc, char **argv) {
  dune_test_enter("conformance", argc, argv);
  clone_with_own_stack();
  clone3_validation();
  close_range_shared_table();
  exec_only_page();
  every_number_is_the_programs();
  unwritable_signal_frame();
  privileged_instructions();
  only_own_descriptors();
  printf("conformance: %s\n", failures ? "FAILED" : "ok");
  return failures ? 1 : 0;
}
