/* dune_fuzz - the differential syscall fuzzer. Each sequence runs twice, in
 * two children forked from one parent: natively, and in Dune mode (strict:
 * dune_init_and_enter, then the same calls). Every call's result, the memory
 * it wrote, the signals delivered and the exit status must be the same. A
 * divergence is shrunk to the fewest ops that still diverge, printed with its
 * seed, and written where --save says (a replayable file: --replay).
 *
 *   dune_fuzz [--seed S] [--sequences N] [--ops L] [--seconds T] [--storm]
 *             [--save DIR] [--replay FILE] [--self-check]
 *
 * --storm runs every other sequence with a CPU-time timer signal firing
 * throughout (DUNE_FUZZ_SEED, DUNE_FUZZ_SEQUENCES, DUNE_FUZZ_STORM=1 and
 * DUNE_FUZZ_REPLAY=FILE set the defaults; DUNE_FUZZ_TRACE=1 and
 * DUNE_FUZZ_PROBE=seq|op [DUNE_FUZZ_PROBE_FROM=SEED] help diagnose: docs/fuzzing.md); --self-check runs both children natively (the fuzzer's own
 * determinism: no VM needed). Exit: 0 no divergence, 1 some, 2 usage, 77 Dune
 * mode unavailable (a failure with DUNE_REQUIRE_KVM=1). */
#define _GNU_SOURCE
#include <dune/dune.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "fuzz_exec.h"
#include "fuzz_ops.h"
#include "fuzz_world.h"

struct options {
  uint64_t seed;
  long sequences;
  uint32_t ops;
  double seconds;
  int storm;
  int self_check;
  const char *save;
  const char *replay;
};

static double now(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

enum { kNative = 0, kDune = 1, kExitUnavailable = 99 };
#define FUZZ_BATCH 64

/* What the children run: sequence k of a batch is seed + k's (with the timer
 * signal when storm and k is odd), or the one sequence ops gives. */
struct job {
  uint64_t seed;
  uint32_t count;
  uint32_t len;
  int storm;
  const struct fuzz_op *ops;
  uint32_t n_ops;
};

/* One side's records of a batch: the outcomes in memory shared with its
 * children, and how each sequence ended. */
struct side {
  struct fuzz_outcome *out; /* [FUZZ_BATCH] */
  int status[FUZZ_BATCH];   /* wait status when the sequence ended the process, else 0 */
  int timed_out[FUZZ_BATCH];
  int unavailable; /* Dune mode could not be entered */
};

static struct side g_sides[2];
static int g_probe_mode;       /* DUNE_FUZZ_PROBE */
static uint64_t g_probe_from;  /* DUNE_FUZZ_PROBE_FROM: the first seed probed */
static struct fuzz_op g_child_ops[FUZZ_MAX_OPS];

static uint32_t sequence_of(const struct job *j, uint32_t k, struct fuzz_op *ops, int *storm) {
  if (j->ops) {
    memcpy(ops, j->ops, j->n_ops * sizeof *ops);
    *storm = j->storm;
    return j->n_ops;
  }
  fuzz_generate(j->seed + k, ops, j->len);
  *storm = j->storm && (k % 2);
  return j->len;
}

/* A child: Dune mode if asked (once for the whole batch), then the batch's
 * sequences from `from` on, each from the same starting state. */
static void child_main(const struct job *j, uint32_t from, struct fuzz_outcome *out, int dune) {
  if (dune && dune_init_and_enter()) _exit(kExitUnavailable);
  for (uint32_t k = from; k < j->count; ++k) {
    int storm;
    uint32_t n = sequence_of(j, k, g_child_ops, &storm);
    fuzz_probe = j->seed + k >= g_probe_from ? g_probe_mode : 0;
    fuzz_run(g_child_ops, n, storm, &out[k]);
    out[k].finished = 1;
  }
  _exit(0);
}

static uint64_t progress(const struct side *s, uint32_t count) {
  uint64_t p = 0;
  for (uint32_t k = 0; k < count; ++k) p += s->out[k].done + s->out[k].started;
  return p;
}

/* Runs a batch on one side: a child for the sequences, and after a sequence
 * that ended its process, a new child for the rest. A child that makes no
 * progress for 60 s is killed: that sequence hung. */
static void run_side(const struct job *j, int dune, struct side *s) {
  memset(s->out, 0, j->count * sizeof *s->out);
  memset(s->status, 0, sizeof s->status);
  memset(s->timed_out, 0, sizeof s->timed_out);
  s->unavailable = 0;
  for (uint32_t from = 0; from < j->count;) {
    fflush(NULL);
    pid_t pid = fork();
    if (pid == 0) child_main(j, from, s->out, dune);
    int status = 0, hung = 0;
    uint64_t seen = progress(s, j->count);
    double deadline = now() + 60;
    for (;;) {
      pid_t w = waitpid(pid, &status, WNOHANG);
      if (w == pid || (w < 0 && errno != EINTR)) break;
      uint64_t p = progress(s, j->count);
      if (p != seen) {
        seen = p;
        deadline = now() + 60;
      } else if (now() > deadline) {
        kill(pid, SIGKILL);
        waitpid(pid, &status, 0);
        hung = 1;
        break;
      }
      struct timespec nap = {0, 200 * 1000};
      nanosleep(&nap, NULL);
    }
    if (WIFEXITED(status) && WEXITSTATUS(status) == kExitUnavailable && !s->out[from].started) {
      s->unavailable = 1;
      return;
    }
    uint32_t k = from;
    while (k < j->count && s->out[k].finished) ++k;
    if (k == j->count) break; /* all done */
    s->status[k] = status;
    s->timed_out[k] = hung;
    from = k + 1;
  }
}

static void describe_status(char *buf, size_t n, int status, int hung) {
  if (hung)
    snprintf(buf, n, "hung (killed after 60 s without progress)");
  else if (WIFSIGNALED(status))
    snprintf(buf, n, "killed by signal %d", WTERMSIG(status));
  else if (status)
    snprintf(buf, n, "exit %d", WEXITSTATUS(status));
  else
    snprintf(buf, n, "finished");
}

/* Sequence k's first difference between the sides, or -1; what it is goes to why. */
static long compare(uint32_t k, uint32_t n, char *why, size_t len) {
  const struct side *a = &g_sides[kNative], *b = &g_sides[kDune];
  const struct fuzz_outcome *x = &a->out[k], *y = &b->out[k];
  uint32_t done = x->done < y->done ? x->done : y->done;
  for (uint32_t i = 0; i < done; ++i) {
    const struct fuzz_result *p = &x->r[i], *q = &y->r[i];
    if (p->ret != q->ret || p->hash != q->hash || p->signals != q->signals || p->last_signal != q->last_signal) {
      snprintf(why, len,
               "op %u: native ret %" PRId64 " hash %016" PRIx64 " signals %u (last %u); "
               "dune ret %" PRId64 " hash %016" PRIx64 " signals %u (last %u)",
               i, p->ret, p->hash, p->signals, p->last_signal, q->ret, q->hash, q->signals, q->last_signal);
      return i;
    }
  }
  if (x->done != y->done || a->status[k] != b->status[k] || a->timed_out[k] != b->timed_out[k]) {
    char sa[80], sb[80];
    describe_status(sa, sizeof sa, a->status[k], a->timed_out[k]);
    describe_status(sb, sizeof sb, b->status[k], b->timed_out[k]);
    snprintf(why, len, "native did %u of %u ops, %s; dune did %u, %s", x->done, n, sa, y->done, sb);
    return done;
  }
  for (int s = 1; s <= 64; ++s) {
    if (x->delivered[s] != y->delivered[s]) {
      snprintf(why, len, "signal %d delivered %u times natively, %u in Dune mode", s, x->delivered[s], y->delivered[s]);
      return n;
    }
  }
  return -1;
}

/* Runs the batch both ways. -2: Dune mode unavailable. */
static int run_both(const struct job *j, const struct options *o) {
  run_side(j, 0, &g_sides[kNative]);
  run_side(j, !o->self_check, &g_sides[kDune]);
  return g_sides[kDune].unavailable ? -2 : 0;
}

/* One sequence of given ops both ways: -1 if they agree, -2 unavailable, else
 * where they first differ. */
static long diverges(const struct fuzz_op *ops, uint32_t n, int storm, const struct options *o, char *why,
                     size_t len) {
  struct job j = {0, 1, n, storm, ops, n};
  if (run_both(&j, o) == -2) return -2;
  return compare(0, n, why, len);
}

/* The fewest ops that still diverge: cut after the first difference, then
 * drop ops one at a time while the divergence stays. */
static uint32_t shrink(struct fuzz_op *ops, uint32_t n, long at, int storm, const struct options *o) {
  char why[512];
  if (at >= 0 && (uint32_t)at + 1 < n) n = (uint32_t)at + 1;
  for (uint32_t i = 0; i < n;) {
    struct fuzz_op keep = ops[i];
    memmove(&ops[i], &ops[i + 1], (n - i - 1) * sizeof *ops);
    if (diverges(ops, n - 1, storm, o, why, sizeof why) >= 0) {
      --n;
      continue;
    }
    memmove(&ops[i + 1], &ops[i], (n - i - 1) * sizeof *ops);
    ops[i] = keep;
    ++i;
  }
  return n;
}

static void report(const struct fuzz_op *ops, uint32_t n, uint64_t seed, int storm, const char *why,
                   const struct options *o) {
  printf("dune_fuzz: DIVERGENCE seed %" PRIu64 "%s: %s\n", seed, storm ? " (storm)" : "", why);
  fuzz_write_ops(stdout, ops, n);
  if (!o->save) return;
  mkdir(o->save, 0755);
  char path[512];
  snprintf(path, sizeof path, "%s/seed-%" PRIu64 "%s.ops", o->save, seed, storm ? "-storm" : "");
  FILE *f = fopen(path, "we");
  if (!f) return;
  fprintf(f, "# dune_fuzz divergence, seed %" PRIu64 "%s: %s\n", seed, storm ? " (storm)" : "", why);
  fuzz_write_ops(f, ops, n);
  fclose(f);
  printf("dune_fuzz: kept as %s (dune_fuzz --replay %s)\n", path, path);
}

static int usage(const char *msg) {
  fprintf(stderr, "dune_fuzz: %s\nusage: dune_fuzz [--seed S] [--sequences N] [--ops L] [--seconds T] [--storm] "
                  "[--save DIR] [--replay FILE] [--self-check]\n", msg);
  return 2;
}

static int parse(int argc, char **argv, struct options *o) {
  o->seed = 1;
  o->sequences = 100;
  o->ops = 40;
  /* Defaults from the environment, for runs that cannot pass arguments (the
   * hardware bed's programs): DUNE_FUZZ_SEED, DUNE_FUZZ_SEQUENCES, DUNE_FUZZ_STORM. */
  const char *env = getenv("DUNE_FUZZ_SEED");
  if (env) o->seed = strtoull(env, NULL, 0);
  if ((env = getenv("DUNE_FUZZ_SEQUENCES"))) o->sequences = strtol(env, NULL, 0);
  if ((env = getenv("DUNE_FUZZ_STORM"))) o->storm = !strcmp(env, "1");
  if ((env = getenv("DUNE_FUZZ_REPLAY")) && *env) o->replay = env;
  if ((env = getenv("DUNE_FUZZ_PROBE"))) g_probe_mode = !strcmp(env, "seq") ? 1 : !strcmp(env, "op") ? 2 : 0;
  if ((env = getenv("DUNE_FUZZ_PROBE_FROM"))) g_probe_from = strtoull(env, NULL, 0); /* a seed */
  for (int i = 1; i < argc; ++i) {
    const char *a = argv[i];
    const char *v = i + 1 < argc ? argv[i + 1] : NULL;
    char *end = NULL;
    if (!strcmp(a, "--storm")) {
      o->storm = 1;
      continue;
    }
    if (!strcmp(a, "--self-check")) {
      o->self_check = 1;
      continue;
    }
    if (!v) {
      return usage("an option without its value, or unknown");
    } else if (!strcmp(a, "--seed")) {
      o->seed = strtoull(v, &end, 0);
    } else if (!strcmp(a, "--sequences")) {
      o->sequences = strtol(v, &end, 0);
    } else if (!strcmp(a, "--ops")) {
      o->ops = (uint32_t)strtoul(v, &end, 0);
      if (o->ops == 0 || o->ops > FUZZ_MAX_OPS) return usage("--ops: 1 to 512");
    } else if (!strcmp(a, "--seconds")) {
      o->seconds = strtod(v, &end);
    } else if (!strcmp(a, "--save")) {
      o->save = v;
      end = (char *)"";
    } else if (!strcmp(a, "--replay")) {
      o->replay = v;
      end = (char *)"";
    } else {
      return usage("unknown option");
    }
    if (!end || *end) return usage("a value is not a number");
    ++i;
  }
  return 0;
}

int main(int argc, char **argv) {
  struct options o;
  memset(&o, 0, sizeof o);
  if (parse(argc, argv, &o)) return 2;
  /* DUNE_FUZZ_TRACE=1: every op on stderr before it runs (where a run hangs). */
  const char *trace = getenv("DUNE_FUZZ_TRACE");
  if (trace && !strcmp(trace, "1")) fz.trace_fd = fcntl(2, F_DUPFD_CLOEXEC, 900);
  int err = fuzz_world_init();
  if (err) {
    fprintf(stderr, "dune_fuzz: cannot make the world: %s\n", strerror(-err));
    return 1;
  }
  for (int k = 0; k < 2; ++k) {
    g_sides[k].out = mmap(NULL, FUZZ_BATCH * sizeof(struct fuzz_outcome), PROT_READ | PROT_WRITE,
                          MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    if (g_sides[k].out == MAP_FAILED) return 1;
  }
  static struct fuzz_op ops[FUZZ_MAX_OPS];
  char why[512];
  if (o.replay) {
    FILE *f = fopen(o.replay, "re");
    if (!f) return usage("--replay: cannot open the file");
    long n = fuzz_read_ops(f, ops, FUZZ_MAX_OPS);
    fclose(f);
    if (n < 0) return 2;
    int storm = strstr(o.replay, "storm") != NULL || o.storm;
    long at = diverges(ops, (uint32_t)n, storm, &o, why, sizeof why);
    if (at == -2) goto unavailable;
    printf("dune_fuzz: %s: %s\n", o.replay, at < 0 ? "same" : why);
    return at < 0 ? 0 : 1;
  }
  double start = now();
  long found = 0, calls = 0, seqs = 0;
  for (uint64_t base = 0;; base += FUZZ_BATCH) {
    if (o.seconds > 0 ? now() - start > o.seconds : (long)base >= o.sequences) break;
    uint32_t count = FUZZ_BATCH;
    if (o.seconds <= 0 && (long)(base + count) > o.sequences) count = (uint32_t)(o.sequences - (long)base);
    struct job j = {o.seed + base, count, o.ops, o.storm, NULL, 0};
    if (run_both(&j, &o) == -2) goto unavailable;
    for (uint32_t k = 0; k < count; ++k) {
      if (g_sides[kDune].out[k].probe_failed)
        printf("dune_fuzz: probe: in Dune mode, forks fail from seed %" PRIu64 " op %d on\n", o.seed + base + k,
               g_sides[kDune].out[k].probe_failed - 1);
      ++seqs;
      calls += g_sides[kNative].out[k].done;
      long at = compare(k, o.ops, why, sizeof why);
      if (at < 0) continue;
      ++found;
      uint64_t seed = o.seed + base + k;
      int storm = o.storm && (k % 2);
      char first[400];
      snprintf(first, sizeof first, "%.399s", why);
      fuzz_generate(seed, ops, o.ops);
      uint32_t n = shrink(ops, o.ops, at, storm, &o);
      if (diverges(ops, n, storm, &o, why, sizeof why) < 0)
        snprintf(why, sizeof why, "%.399s (not after shrinking)", first);
      report(ops, n, seed, storm, why, &o);
      /* The batch's records were overwritten by the shrinking: run it again for the rest. */
      if (k + 1 < count && run_both(&j, &o) == -2) goto unavailable;
    }
  }
  printf("dune_fuzz: %ld sequences of %u ops (%ld calls) from seed %" PRIu64 "%s%s in %.1f s: %ld divergence%s\n",
         seqs, o.ops, calls, o.seed, o.storm ? ", every other with a timer signal" : "",
         o.self_check ? ", both runs native (--self-check)" : "", now() - start, found, found == 1 ? "" : "s");
  return found ? 1 : 0;
unavailable: {
  const char *req = getenv("DUNE_REQUIRE_KVM");
  int required = req && !strcmp(req, "1");
  fprintf(stderr, "dune_fuzz: %s: Dune mode cannot be entered here%s\n", required ? "FAIL" : "SKIP",
          required ? " (DUNE_REQUIRE_KVM=1)" : "");
  return required ? 1 : 77;
}
}
