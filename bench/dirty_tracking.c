/* dirty_tracking: a garbage collector's write barrier, the Dune paper's third
 * application. Rounds of {start tracking, write 1% of 10,000 pages, collect
 * the written set}, three ways in one run:
 *   - natively with mprotect + SIGSEGV (a handler records the page and opens it);
 *   - natively with soft-dirty bits (/proc/self/clear_refs, /proc/self/pagemap);
 *   - in Dune mode with dune_vm_page_walk over the dirty bits (PTE_D) of
 *     pgroot: one walk a round collects the dirty pages and clears their
 *     bits, which starts the next round;
 *   - in Dune mode by scanning pgroot's leaf tables themselves, found with
 *     dune_vm_lookup (the original Dune's idiom: a table of 512 entries is
 *     plain memory to the program), then one dune_flush_tlb.
 * Each way's set must be exactly the pages written (exit status 1 otherwise);
 * soft-dirty missing from the kernel is reported, not failed. Medians per
 * round in cycles (the TSC), with VM exits per round from the library; the
 * native ways first run one round untimed.
 *
 *   dirty_tracking [ROUNDS]   (default 50; DUNE_TEST_QUICK=1: 5) */
#include <dune/dune.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "bench_util.h"
#include "test_support.h"

#define PAGE 4096ul
#define PAGES 10000l
#define WRITTEN (PAGES / 100)
#define MAX_ROUNDS 1000

static char *region;
static unsigned char want[PAGES], got[PAGES];
static long inexact;

/* Round r writes WRITTEN distinct pages (97 is prime to PAGES). */
static long written_page(long round, long i) { return ((round + 1) * 7919 + i * 97) % PAGES; }

static void write_round(long round) {
  memset(want, 0, sizeof want);
  for (long i = 0; i < WRITTEN; ++i) {
    long p = written_page(round, i);
    region[p * PAGE + ((round + 1) % 64) * 8] = (char)(round + 2);
    want[p] = 1;
  }
}

static void compare(const char *way, long round) {
  if (memcmp(want, got, sizeof want) == 0) return;
  long missed = 0, extra = 0;
  for (long p = 0; p < PAGES; ++p) {
    missed += want[p] && !got[p];
    extra += got[p] && !want[p];
  }
  if (inexact++ < 10)
    printf("dirty_tracking: %s, round %ld: %ld written pages missed, %ld unwritten ones reported\n", way, round,
           missed, extra);
}

/* --- natively: mprotect + SIGSEGV --- */
static void on_segv(int sig, siginfo_t *si, void *uc) {
  (void)sig;
  (void)uc;
  uintptr_t page = (uintptr_t)si->si_addr & ~(PAGE - 1);
  long p = (long)((page - (uintptr_t)region) / PAGE);
  if (p < 0 || p >= PAGES) abort();
  got[p] = 1;
  mprotect((void *)page, PAGE, PROT_READ | PROT_WRITE);
}

static uint64_t by_mprotect(long rounds, uint64_t *s) {
  struct sigaction sa, old;
  memset(&sa, 0, sizeof sa);
  sa.sa_sigaction = on_segv;
  sa.sa_flags = SA_SIGINFO | SA_RESTART;
  sigaction(SIGSEGV, &sa, &old);
  for (long r = -1; r < rounds; ++r) { /* round -1: a warm-up, not timed */
    uint64_t t = bench_tsc();
    memset(got, 0, sizeof got);
    mprotect(region, PAGES * PAGE, PROT_READ);
    write_round(r);
    /* The written set is `got`, kept by the handler. */
    if (r >= 0) s[r] = bench_tsc() - t;
    compare("mprotect + SIGSEGV", r);
  }
  mprotect(region, PAGES * PAGE, PROT_READ | PROT_WRITE);
  sigaction(SIGSEGV, &old, NULL);
  return bench_median(s, (size_t)rounds);
}

/* --- natively: soft-dirty --- */
static uint64_t soft_dirty[PAGES];

/* 0 if the kernel keeps soft-dirty bits (CONFIG_MEM_SOFT_DIRTY). */
static int soft_dirty_round(int clear_fd, int map_fd, long round) {
  if (pwrite(clear_fd, "4", 1, 0) != 1) return -1;
  write_round(round);
  off_t at = (off_t)((uintptr_t)region / PAGE * sizeof(uint64_t));
  if (pread(map_fd, soft_dirty, sizeof soft_dirty, at) != (ssize_t)sizeof soft_dirty) return -1;
  for (long p = 0; p < PAGES; ++p) got[p] = (soft_dirty[p] >> 55) & 1;
  return 0;
}

static uint64_t by_soft_dirty(long rounds, uint64_t *s, int *available) {
  int clear_fd = open("/proc/self/clear_refs", O_WRONLY | O_CLOEXEC);
  int map_fd = open("/proc/self/pagemap", O_RDONLY | O_CLOEXEC);
  *available = clear_fd >= 0 && map_fd >= 0;
  for (long r = -1; r < rounds && *available; ++r) {
    uint64_t t = bench_tsc();
    if (soft_dirty_round(clear_fd, map_fd, r)) *available = 0;
    if (r >= 0) s[r] = bench_tsc() - t;
    /* A kernel without soft-dirty reports nothing dirty, ever. */
    long any = 0;
    for (long p = 0; p < PAGES; ++p) any += got[p];
    if (any == 0) *available = 0;
    if (*available) compare("soft-dirty", r);
  }
  if (clear_fd >= 0) close(clear_fd);
  if (map_fd >= 0) close(map_fd);
  return *available ? bench_median(s, (size_t)rounds) : 0;
}

/* --- Dune mode: PTE_D walks --- */
/* Collecting a page clears its dirty bit: the walk that ends a round starts
 * the next one, as a collector's would. */
static int collect_and_clear(const void *arg, ptent_t *pte, void *va) {
  (void)arg;
  if (*pte & PTE_D) {
    got[((char *)va - region) / (long)PAGE] = 1;
    *pte &= ~PTE_D;
  }
  return 0;
}

static uint64_t by_dirty_bits(long rounds, uint64_t *s, double *exits_per_round) {
  char *last = region + PAGES * PAGE - 1;
  struct dune_stats a, b;
  /* Start tracking: the first walk clears the dirty bit of every page. */
  int e = dune_vm_page_walk(pgroot, region, last, collect_and_clear, NULL);
  dune_get_stats(&a);
  for (long r = 0; r < rounds; ++r) {
    uint64_t t = bench_tsc();
    write_round(r);
    memset(got, 0, sizeof got);
    e |= dune_vm_page_walk(pgroot, region, last, collect_and_clear, NULL);
    s[r] = bench_tsc() - t;
    compare("PTE_D walks", r);
  }
  dune_get_stats(&b);
  if (e) {
    printf("dirty_tracking: dune_vm_page_walk failed (%d)\n", e);
    ++inexact;
  }
  *exits_per_round = (double)(b.vm_exits - a.vm_exits) / (double)rounds;
  return bench_median(s, (size_t)rounds);
}

/* va's leaf slot; those of the pages after it, to the end of its 2 MiB,
 * follow it in the same table. */
static ptent_t *leaf_slots(char *va) {
  ptent_t *pte = NULL;
  return dune_vm_lookup(pgroot, va, CREATE_NONE, &pte) == 0 ? pte : NULL;
}

static int scan_and_clear(void) {
  long p = 0;
  while (p < PAGES) {
    char *va = region + p * PAGE;
    long in_table = 512 - (long)(((uintptr_t)va >> 12) & 511);
    long n = PAGES - p < in_table ? PAGES - p : in_table;
    ptent_t *pte = leaf_slots(va);
    if (!pte) return -1;
    for (long i = 0; i < n; ++i) {
      if (pte[i] & PTE_D) {
        got[p + i] = 1;
        pte[i] &= ~PTE_D;
      }
    }
    p += n;
  }
  /* A translation cached with PTE_D set would let the next write skip it. */
  dune_flush_tlb();
  return 0;
}

static uint64_t by_table_scan(long rounds, uint64_t *s, double *exits_per_round) {
  struct dune_stats a, b;
  int e = scan_and_clear();
  dune_get_stats(&a);
  for (long r = 0; r < rounds; ++r) {
    uint64_t t = bench_tsc();
    write_round(r);
    memset(got, 0, sizeof got);
    e |= scan_and_clear();
    s[r] = bench_tsc() - t;
    compare("leaf-table scans", r);
  }
  dune_get_stats(&b);
  if (e) {
    printf("dirty_tracking: dune_vm_lookup found no leaf table\n");
    ++inexact;
  }
  *exits_per_round = (double)(b.vm_exits - a.vm_exits) / (double)rounds;
  return bench_median(s, (size_t)rounds);
}

int main(int argc, char **argv) {
  static uint64_t s[MAX_ROUNDS];
  long rounds = dune_test_count(50, 5);
  if (argc > 1) {
    char *end;
    rounds = strtol(argv[1], &end, 10);
    if (*end || rounds < 1 || rounds > MAX_ROUNDS) {
      fprintf(stderr, "usage: dirty_tracking [ROUNDS]  (ROUNDS: 1..%d)\n", MAX_ROUNDS);
      return 2;
    }
  }
  region = mmap(NULL, PAGES * PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (region == MAP_FAILED) {
    perror("dirty_tracking: mmap");
    return 1;
  }
  /* One huge page would be one soft-dirty bit for 512 pages. */
  madvise(region, PAGES * PAGE, MADV_NOHUGEPAGE);
  memset(region, 1, PAGES * PAGE);

  uint64_t protect = by_mprotect(rounds, s);
  int soft_ok = 0;
  uint64_t soft = by_soft_dirty(rounds, s, &soft_ok);

  int r = dune_init_and_enter();
  if (r) dune_test_skip_or_fail("dirty_tracking", r);
  double exits = 0;
  uint64_t dune = by_dirty_bits(rounds, s, &exits);
  double scan_exits = 0;
  uint64_t scan = by_table_scan(rounds, s, &scan_exits);

  uint64_t best = soft_ok && soft < protect ? soft : protect;
  printf("dirty_tracking: %ld pages, %ld written per round, %ld rounds; median cycles per round (%s)\n", PAGES,
         WRITTEN, rounds, dune_flavour_name(dune_get_flavour()));
  printf("  %-44s %14s %10s %12s\n", "way", "cycles/round", "vs best", "exits/round");
  printf("  %-44s %14llu %9.2fx %12s\n", "native: mprotect + SIGSEGV", (unsigned long long)protect,
         (double)protect / (double)best, "-");
  if (soft_ok)
    printf("  %-44s %14llu %9.2fx %12s\n", "native: soft-dirty (clear_refs + pagemap)", (unsigned long long)soft,
           (double)soft / (double)best, "-");
  else
    printf("  %-44s %14s %10s %12s\n", "native: soft-dirty (clear_refs + pagemap)", "unavailable", "-", "-");
  printf("  %-44s %14llu %9.2fx %12.1f\n", "Dune: PTE_D walks of pgroot", (unsigned long long)dune,
         (double)dune / (double)best, exits);
  printf("  %-44s %14llu %9.2fx %12.1f\n", "Dune: PTE_D scans of pgroot's leaf tables", (unsigned long long)scan,
         (double)scan / (double)best, scan_exits);
  printf("dirty_tracking: %s\n", inexact ? "FAILED: a written set was not exact" : "ok (every written set exact)");
  return inexact ? 1 : 0;
}
