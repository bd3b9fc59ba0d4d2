/* fuzz_exec.c - one op as a raw syscall, and what it gave (fuzz_exec.h). */
#define _GNU_SOURCE
#include "fuzz_exec.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <setjmp.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <unistd.h>

#include "fuzz_world.h"

#ifndef SA_RESTORER
#define SA_RESTORER 0x04000000
#endif

/* Signals the ops send and handle: not the stop signals (the run would wait),
 * not SIGSEGV/SIGBUS (the touch op's), not SIGPROF (the storm's); 0 and 65
 * are invalid, SIGKILL may only be refused (sigaction) or kill. */
static const int kSignals[] = {SIGHUP, SIGINT, SIGUSR1, SIGUSR2, SIGPIPE, SIGALRM, SIGTERM, SIGCHLD, SIGCONT,
                               SIGURG, SIGWINCH, SIGIO, SIGPWR, SIGQUIT, SIGABRT, 34, 35, 40, 50, 64, 0, 65, SIGKILL};
#define NSIG_CHOICES (sizeof kSignals / sizeof kSignals[0])

static volatile uint32_t g_delivered[65];
static volatile uint32_t g_handled, g_last;
static sigjmp_buf g_touch;
static volatile int g_in_touch;

static void count_handler(int sig) {
  if (sig > 0 && sig <= 64) ++g_delivered[sig];
  ++g_handled;
  g_last = (uint32_t)sig;
}

static void fault_handler(int sig, siginfo_t *si, void *uc) {
  (void)uc;
  if (g_in_touch) siglongjmp(g_touch, sig * 16 + (si->si_code & 15));
  count_handler(sig);
}

static void storm_handler(int sig) { (void)sig; }

int fuzz_probe;

/* Whether a plain fork still works: the child exits 0 at once. */
static int fork_works(void) {
  long pid = syscall(SYS_clone, SIGCHLD, 0, 0, 0, 0);
  if (pid == 0) syscall(SYS_exit_group, 0);
  if (pid < 0) return 0;
  int status = 0;
  while (waitpid((pid_t)pid, &status, __WALL) < 0 && errno == EINTR) {
  }
  return WIFEXITED(status) && WEXITSTATUS(status) == 0;
}

static long sys6(long nr, uint64_t a, uint64_t b, uint64_t c, uint64_t d, uint64_t e, uint64_t f) {
  long r = syscall(nr, a, b, c, d, e, f);
  return r == -1 ? -errno : r;
}

static int sig_of(uint32_t c) { return kSignals[c % NSIG_CHOICES]; }

/* A page count from 0 to 8 that stays within the arena from page p. */
static uint64_t pages_from(uint32_t c, uint32_t p) {
  uint32_t first = p % FUZZ_ARENA_PAGES;
  uint32_t n = c % 9;
  return n > FUZZ_ARENA_PAGES - first ? FUZZ_ARENA_PAGES - first : n;
}

/* The arena address of choice c, misaligned by a byte one time in eight. */
static uint64_t arena_addr(uint32_t c, uint32_t mis) {
  return (uint64_t)fuzz_arena_page(c) + ((mis % 8) == 0 ? 1 : 0);
}

static uint64_t hash_out(uint64_t ptr, long n) {
  if (n <= 0 || ptr != (uint64_t)fz.buf) return 0;
  return fuzz_hash(fz.buf, (size_t)(n < (long)FUZZ_BUF ? n : (long)FUZZ_BUF), 1469598103934665603ull);
}

static void remember_fd(long fd) {
  if (fd >= 0) {
    fz.fds[5] = fz.fds[4];
    fz.fds[4] = (int)fd;
  }
}

static const int kProts[] = {PROT_NONE, PROT_READ, PROT_READ | PROT_WRITE, PROT_READ | PROT_EXEC,
                             PROT_READ | PROT_WRITE | PROT_EXEC, 0x100 /* invalid */};
static const int kMapFlags[] = {MAP_PRIVATE | MAP_ANONYMOUS, MAP_SHARED | MAP_ANONYMOUS,
                                MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE,
                                MAP_PRIVATE /* no file: EBADF */, MAP_SHARED_VALIDATE | MAP_ANONYMOUS | 0x800000};
static const int kAdvice[] = {MADV_NORMAL,   MADV_RANDOM,    MADV_SEQUENTIAL, MADV_WILLNEED, MADV_DONTNEED,
                              MADV_FREE,     MADV_REMOVE,    MADV_DONTFORK,   MADV_DOFORK,   MADV_HUGEPAGE,
                              MADV_NOHUGEPAGE, MADV_COLD,    MADV_PAGEOUT,    999};
#define PICK(table, c) (table)[(c) % (sizeof(table) / sizeof((table)[0]))]

static void run_op(const struct fuzz_op *op, struct fuzz_result *r) {
  const uint32_t *c = op->c;
  long ret = 0;
  uint64_t h = 0;
  switch (op->kind) {
    case FZ_WRITE:
      ret = sys6(SYS_write, (uint64_t)fuzz_fd(c[0]), fuzz_pointer(c[1], c[3]), fuzz_length(c[2]), 0, 0, 0);
      break;
    case FZ_READ: {
      uint64_t p = fuzz_pointer(c[1], c[3]);
      ret = sys6(SYS_read, (uint64_t)fuzz_fd(c[0]), p, fuzz_length(c[2]), 0, 0, 0);
      h = hash_out(p, ret);
      break;
    }
    case FZ_MMAP: {
      uint64_t a = arena_addr(c[0], c[4]);
      ret = sys6(SYS_mmap, a, pages_from(c[1], c[0]) * FUZZ_PAGE, (uint64_t)PICK(kProts, c[2]),
                 (uint64_t)(PICK(kMapFlags, c[3]) | MAP_FIXED), (uint64_t)-1, 0);
      if (ret == (long)a) ret = 1; /* the address asked for */
      break;
    }
    case FZ_MUNMAP:
      ret = sys6(SYS_munmap, arena_addr(c[0], c[2]), pages_from(c[1], c[0]) * FUZZ_PAGE, 0, 0, 0, 0);
      break;
    case FZ_MPROTECT:
      ret = sys6(SYS_mprotect, arena_addr(c[0], c[3]), pages_from(c[1], c[0]) * FUZZ_PAGE,
                 (uint64_t)PICK(kProts, c[2]), 0, 0, 0);
      break;
    case FZ_MADVISE:
      ret = sys6(SYS_madvise, arena_addr(c[0], c[3]), pages_from(c[1], c[0]) * FUZZ_PAGE,
                 (uint64_t)PICK(kAdvice, c[2]), 0, 0, 0);
      break;
    case FZ_MREMAP: {
      /* In place, or moved to another arena page: never where the kernel likes. */
      uint64_t old = (uint64_t)fuzz_arena_page(c[0]), len = pages_from(c[1], c[0]) * FUZZ_PAGE;
      uint64_t to = (uint64_t)fuzz_arena_page(c[3]), grown = pages_from(c[2], c[3]) * FUZZ_PAGE;
      static const int kFlags[] = {0, MREMAP_MAYMOVE | MREMAP_FIXED, MREMAP_MAYMOVE | MREMAP_FIXED | 4 /* DONTUNMAP */,
                                   MREMAP_FIXED /* without MAYMOVE: EINVAL */};
      int fl = PICK(kFlags, c[4]);
      if (!fl) grown = pages_from(c[2], c[0]) * FUZZ_PAGE;
      ret = sys6(SYS_mremap, old, len, grown, (uint64_t)fl, fl ? to : 0, 0);
      if (ret == (long)old || ret == (long)to) ret = ret == (long)old ? 1 : 2;
      break;
    }
    case FZ_TOUCH: {
      volatile uint8_t *p = fuzz_arena_page(c[0]) + (c[1] % FUZZ_PAGE & ~7u);
      int how = (int)(c[2] % 2);
      int got = sigsetjmp(g_touch, 1);
      if (got == 0) {
        g_in_touch = 1;
        if (how)
          *p = (uint8_t)c[3];
        else
          h = *p;
        ret = 0;
      } else {
        ret = -1000 - got; /* the signal and its si_code */
      }
      g_in_touch = 0;
      break;
    }
    case FZ_SIGPROCMASK: {
      static const int kHow[] = {SIG_BLOCK, SIG_UNBLOCK, SIG_SETMASK, 7};
      static uint64_t set, old;
      set = ((uint64_t)c[1] << 32 | c[4]) & ~(1ull << (SIGPROF - 1));
      uint64_t setp = c[2] % 5 == 0 ? 0 : c[2] % 5 == 1 ? (uint64_t)fz.hole : (uint64_t)&set;
      uint64_t oldp = c[3] % 5 == 0 ? 0 : c[3] % 5 == 1 ? (uint64_t)fz.ro : (uint64_t)&old;
      old = 0;
      ret = sys6(SYS_rt_sigprocmask, (uint64_t)PICK(kHow, c[0]), setp, oldp, c[5] % 6 == 0 ? 16 : 8, 0, 0);
      if (oldp == (uint64_t)&old) h = old;
      break;
    }
    case FZ_SIGACTION: {
      struct {
        uint64_t handler, flags, restorer, mask;
      } act, old;
      static const uint64_t kFlags[] = {0, SA_RESTART, SA_NODEFER, SA_RESETHAND, SA_RESTART | SA_NODEFER, SA_ONSTACK};
      uint64_t handlers[] = {(uint64_t)count_handler, (uint64_t)SIG_IGN, (uint64_t)SIG_DFL};
      act.handler = handlers[c[1] % 3];
      act.flags = SA_RESTORER | PICK(kFlags, c[2]);
      act.restorer = (uint64_t)fuzz_restorer;
      act.mask = (uint64_t)c[3] << 32 | c[4];
      memset(&old, 0, sizeof old);
      uint64_t actp = c[5] % 4 == 0 ? 0 : c[5] % 4 == 1 ? (uint64_t)fz.hole : (uint64_t)&act;
      uint64_t oldp = c[5] % 3 == 0 ? (uint64_t)fz.ro : (uint64_t)&old;
      ret = sys6(SYS_rt_sigaction, (uint64_t)sig_of(c[0]), actp, oldp, c[5] % 7 == 0 ? 4 : 8, 0, 0);
      if (oldp == (uint64_t)&old) h = fuzz_hash(&old, sizeof old, 1);
      break;
    }
    case FZ_KILL:
      if (c[1] % 2)
        ret = sys6(SYS_kill, (uint64_t)getpid(), (uint64_t)sig_of(c[0]), 0, 0, 0, 0);
      else
        ret = sys6(SYS_tgkill, (uint64_t)getpid(), (uint64_t)syscall(SYS_gettid), (uint64_t)sig_of(c[0]), 0, 0, 0);
      break;
    case FZ_FSTAT: {
      static struct stat st;
      uint64_t p = c[1] % 4 == 0 ? fuzz_pointer(c[2], c[3]) : (uint64_t)&st;
      memset(&st, 0, sizeof st);
      ret = sys6(SYS_fstat, (uint64_t)fuzz_fd(c[0]), p, 0, 0, 0, 0);
      if (ret == 0 && p == (uint64_t)&st) {
        uint64_t keep[3] = {st.st_mode, (uint64_t)st.st_size, st.st_rdev}; /* not inode numbers: new objects */
        h = fuzz_hash(keep, sizeof keep, 1);
      }
      break;
    }
    case FZ_CLOSE:
      ret = sys6(SYS_close, (uint64_t)fuzz_fd(c[0]), 0, 0, 0, 0, 0);
      break;
    case FZ_DUP: {
      /* Targets: low ones, the last below the limit, and the library's numbers (-1: invalid). */
      static const int kTargets[] = {3, 9, 100, 1023, -2, -3, -4, -1};
      int target = PICK(kTargets, c[2]);
      if (target < -1) target = fuzz_limit_fd((uint32_t)(-target - 2) + (c[4] % 2 ? 3 : 0));
      uint64_t fd = (uint64_t)fuzz_fd(c[0]), to = (uint64_t)(int64_t)target;
      switch (c[1] % 4) {
        case 0: ret = sys6(SYS_dup, fd, 0, 0, 0, 0, 0); break;
        case 1: ret = sys6(SYS_dup2, fd, to, 0, 0, 0, 0); break;
        case 2: ret = sys6(SYS_dup3, fd, to, c[3] % 3 == 0 ? 0x1234 : O_CLOEXEC, 0, 0, 0); break;
        default: ret = sys6(SYS_fcntl, fd, c[3] % 2 ? F_DUPFD : F_DUPFD_CLOEXEC, to, 0, 0, 0); break;
      }
      remember_fd(ret);
      break;
    }
    case FZ_LSEEK: {
      static const int64_t kOffsets[] = {0, 1, -1, 1ll << 40, 4096};
      ret = sys6(SYS_lseek, (uint64_t)fuzz_fd(c[0]), (uint64_t)PICK(kOffsets, c[1]), c[2] % 6, 0, 0, 0);
      break;
    }
    case FZ_POLL: {
      static struct pollfd pfd[3];
      for (int i = 0; i < 3; ++i) pfd[i] = (struct pollfd){fuzz_fd(c[i]), POLLIN | POLLOUT, 0};
      uint64_t n = c[3] % 5 == 0 ? (1u << 20) : 1 + c[3] % 3;
      uint64_t p = c[4] % 6 == 0 ? (uint64_t)fz.hole : (uint64_t)pfd;
      ret = sys6(SYS_poll, p, n, 0, 0, 0, 0);
      if (p == (uint64_t)pfd) h = fuzz_hash(pfd, sizeof pfd, 1);
      break;
    }
    case FZ_CLONE: {
      static const uint64_t kFlags[] = {SIGCHLD, 0, CLONE_THREAD, CLONE_SIGHAND, CLONE_VFORK | SIGCHLD,
                                        CLONE_PIDFD | SIGCHLD, 1ull << 40};
      uint64_t fl = PICK(kFlags, c[0]);
      long pid = sys6(SYS_clone, fl, 0, 0, 0, 0, 0);
      if (pid == 0) syscall(SYS_exit_group, 7); /* the child: gone at once */
      if (pid > 0) {
        int status = 0;
        while (waitpid((pid_t)pid, &status, __WALL) < 0 && errno == EINTR) {
        }
        h = (uint64_t)status;
        ret = 1;
      } else {
        ret = pid;
      }
      break;
    }
    case FZ_WAIT: {
      int status = 0;
      ret = sys6(SYS_wait4, (uint64_t)-1, (uint64_t)&status, WNOHANG | (c[0] % 2 ? __WALL : 0), 0, 0, 0);
      if (ret > 0) ret = 1;
      h = (uint64_t)status;
      break;
    }
    case FZ_IDS:
      switch (c[0] % 3) {
        case 0: ret = syscall(SYS_getpid) == getpid(); break;
        case 1: ret = syscall(SYS_gettid) == getpid(); break;
        default: ret = syscall(SYS_getppid) == getppid(); break;
      }
      break;
    case FZ_PIPE: {
      static int fds[2];
      static const int kFlags[] = {0, O_CLOEXEC, O_NONBLOCK, O_DIRECT, 0x4000000};
      uint64_t p = c[1] % 5 == 0 ? (uint64_t)fz.ro : c[1] % 5 == 1 ? 0 : (uint64_t)fds;
      ret = sys6(SYS_pipe2, p, (uint64_t)(PICK(kFlags, c[0]) | O_NONBLOCK), 0, 0, 0, 0);
      if (ret == 0 && p == (uint64_t)fds) {
        remember_fd(fds[0]);
        remember_fd(fds[1]);
        h = fuzz_hash(fds, sizeof fds, 1);
      }
      break;
    }
    default: break;
  }
  r->ret = ret;
  r->hash = h;
}

void fuzz_run(const struct fuzz_op *ops, uint32_t n, int storm, struct fuzz_outcome *out) {
  fuzz_world_reset(fault_handler, count_handler, storm ? SIGPROF : 0);
  memset((void *)g_delivered, 0, sizeof g_delivered);
  g_last = 0;
  if (storm) {
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = storm_handler;
    sa.sa_flags = SA_RESTART;
    sigaction(SIGPROF, &sa, NULL);
    struct itimerval it = {{0, 200}, {0, 200}};
    setitimer(ITIMER_PROF, &it, NULL);
  }
  out->started = 1;
  for (uint32_t i = 0; i < n && i < FUZZ_MAX_OPS; ++i) {
    uint32_t before = g_handled;
    if (fz.trace_fd >= 0) {
      char line[96];
      int len = snprintf(line, sizeof line, "dune_fuzz: pid %d op %u %s\n", (int)getpid(), i, fuzz_kind_name(ops[i].kind));
      if (write(fz.trace_fd, line, (size_t)len) < 0) fz.trace_fd = -1;
    }
    run_op(&ops[i], &out->r[i]);
    if (fuzz_probe == 2 && !out->probe_failed && !fork_works()) out->probe_failed = (int32_t)i + 1;
    out->r[i].signals = g_handled - before;
    out->r[i].last_signal = g_last;
    out->done = i + 1;
  }
  if (storm) {
    struct itimerval off = {{0, 0}, {0, 0}};
    setitimer(ITIMER_PROF, &off, NULL);
  }
  for (int s = 0; s < 65; ++s) out->delivered[s] = g_delivered[s];
  if (fuzz_probe == 1 && !fork_works()) out->probe_failed = (int32_t)out->done;
}
