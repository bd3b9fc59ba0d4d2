/* fuzz_world.c - the fuzzing world's memory and descriptors, and the state a
 * sequence starts from (fuzz_world.h). */
#define _GNU_SOURCE
#include "fuzz_world.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

struct fuzz_world fz = {.trace_fd = -1};

/* The restorer a raw rt_sigaction needs on x86-64: rt_sigreturn. */
__asm__(".text\n.globl fuzz_restorer\n.type fuzz_restorer,@function\nfuzz_restorer:\n"
        "  mov $15, %eax\n  syscall\n  hlt\n");

static void *map(size_t len, int prot) {
  void *p = mmap(NULL, len, prot, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  return p == MAP_FAILED ? NULL : p;
}

int fuzz_world_init(void) {
  /* The arena and, after it, pages never touched: mremap cannot grow past them. */
  uint8_t *arena = map((FUZZ_ARENA_PAGES + FUZZ_ARENA_GUARD) * FUZZ_PAGE, PROT_NONE);
  uint8_t *buf = map(FUZZ_BUF + FUZZ_PAGE, PROT_READ | PROT_WRITE);
  uint8_t *ro = map(FUZZ_PAGE, PROT_READ);
  if (!arena || !buf || !ro) return -ENOMEM;
  if (mprotect(buf + FUZZ_BUF, FUZZ_PAGE, PROT_NONE) != 0) return -errno;
  /* Unmapped, and left so: low, where neither the kernel's choices (top down)
   * nor a program image (0x400000 and up) go. A page unmapped among the
   * others would take the next small mapping, in one run and not the other. */
  uint8_t *hole = (uint8_t *)0x100000;
  unsigned char in_core;
  if (mincore(hole, FUZZ_PAGE, &in_core) == 0) return -EEXIST;
  fz.arena = arena;
  fz.buf = buf;
  fz.ro = ro;
  fz.none = buf + FUZZ_BUF;
  fz.hole = hole;
  return 0;
}

/* The same start for every sequence: no descriptor but 0-2 (on /dev/null),
 * then a pipe (nonblocking), a memfd and /dev/null again; handler on every
 * signal (the fault handlers for SIGSEGV and SIGBUS); nothing blocked; no child; the arena
 * reserved and empty; the buffer's pattern. */
void fuzz_world_reset(void (*fault_handler)(int, siginfo_t *, void *), void (*handler)(int), int storm_signal) {
  int null = open("/dev/null", O_RDWR | O_CLOEXEC);
  for (int fd = 0; fd < 3; ++fd) dup2(null, fd);
  if (fz.trace_fd > 3) {
    syscall(SYS_close_range, 3, fz.trace_fd - 1, 0);
    syscall(SYS_close_range, fz.trace_fd + 1, ~0u, 0);
  } else {
    syscall(SYS_close_range, 3, ~0u, 0);
  }
  struct rlimit core = {0, 0};
  setrlimit(RLIMIT_CORE, &core); /* signals that dump core must not write files */
  for (int s = 1; s <= 64; ++s) {
    if (s == SIGKILL || s == SIGSTOP || s == storm_signal) continue;
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    /* A handler everywhere: a process dies only where a sequence set SIG_DFL
     * itself (each death costs a new process, and in Dune mode a new VM). */
    sa.sa_handler = handler;
    sa.sa_flags = SA_RESTART;
    if (s == SIGSEGV || s == SIGBUS) {
      sa.sa_sigaction = fault_handler;
      sa.sa_flags = SA_SIGINFO | SA_NODEFER;
    }
    sigaction(s, &sa, NULL);
  }
  sigset_t none;
  sigemptyset(&none);
  sigprocmask(SIG_SETMASK, &none, NULL);
  while (waitpid(-1, NULL, WNOHANG | __WALL) > 0) {
  }
  mmap(fz.arena, (FUZZ_ARENA_PAGES + FUZZ_ARENA_GUARD) * FUZZ_PAGE, PROT_NONE,
       MAP_FIXED | MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
  for (size_t i = 0; i < FUZZ_BUF; ++i) fz.buf[i] = (uint8_t)(i * 7 + 1);
  int p[2];
  pipe2(p, O_NONBLOCK);
  fz.fds[0] = p[0];
  fz.fds[1] = p[1];
  fz.fds[2] = (int)syscall(SYS_memfd_create, "fuzz", 0);
  fz.fds[3] = open("/dev/null", O_RDWR);
  fz.fds[4] = fz.fds[5] = -1; /* filled by pipe and dup ops */
}

int fuzz_limit_fd(uint32_t k) {
  /* Where the library keeps its own (they must not be visible): just above
   * the program's soft limit, or 15000 and up where the hard limit is high. */
  static int soft = -1;
  if (soft < 0) {
    struct rlimit rl;
    soft = getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < 0x7fff0000 ? (int)rl.rlim_cur : 1024;
  }
  static const int kHigh[] = {15000, 15001, 15002};
  return k < 3 ? soft + (int)k : kHigh[(k - 3) % 3];
}

int fuzz_fd(uint32_t c) {
  /* The world's, the standard ones, never opened, invalid, the library's. */
  static const int kFixed[] = {0, 1, 2, 63, -1, 1 << 20, 0x7fffffff};
  const uint32_t fixed = sizeof kFixed / sizeof kFixed[0];
  uint32_t k = c % (6 + fixed + 6);
  if (k < 6) return fz.fds[k];
  if (k < 6 + fixed) return kFixed[k - 6];
  return fuzz_limit_fd(k - 6 - fixed);
}

uint8_t *fuzz_arena_page(uint32_t c) { return fz.arena + (size_t)(c % FUZZ_ARENA_PAGES) * FUZZ_PAGE; }

uint64_t fuzz_pointer(uint32_t c, uint32_t page) {
  switch (c % 8) {
    case 0:
    case 1: return (uint64_t)fz.buf;
    case 2: return 0;
    case 3: return (uint64_t)fz.hole;
    case 4: return (uint64_t)fz.ro;
    case 5: return (uint64_t)fz.none;
    case 6: return 0xffff800000000000ull; /* the kernel's half */
    default: return (uint64_t)fuzz_arena_page(page);
  }
}

uint64_t fuzz_length(uint32_t c) {
  static const uint64_t kLens[] = {0, 1, 7, 64, 4096, 65536, 1ull << 40, ~0ull, 100};
  return kLens[c % (sizeof kLens / sizeof kLens[0])];
}

uint64_t fuzz_hash(const void *p, size_t n, uint64_t h) {
  const uint8_t *b = p;
  for (size_t i = 0; i < n; ++i) h = (h ^ b[i]) * 0x100000001b3ull;
  return h;
}
