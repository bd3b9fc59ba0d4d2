/* vm_pagetable: the classic page-table calls on the process's own table:
 * accessed/dirty bits found by a walk, the walk's exact coverage, protections
 * that survive the library's own rewrites until a host mprotect, a fault with
 * no handler, and bad arguments. */
#include <dune/dune.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include "test_support.h"

#define PAGE 4096ul

static int failures;
static void check(int ok, const char *what) {
  printf("%s: %s\n", ok ? "ok" : "FAIL", what);
  if (!ok) ++failures;
}

/* --- the dirty-bit walk (a garbage collector's write barrier) --- */
struct dirty_scan {
  char *base;
  unsigned char *seen; /* per page: 1 if found dirty */
  long visited;
};

static int clear_dirty(const void *arg, ptent_t *ptep, void *va) {
  struct dirty_scan *s = (struct dirty_scan *)arg;
  (void)va;
  *ptep &= ~(PTE_D | PTE_A);
  s->visited++;
  return 0;
}

static int find_dirty(const void *arg, ptent_t *ptep, void *va) {
  struct dirty_scan *s = (struct dirty_scan *)arg;
  s->visited++;
  if (*ptep & PTE_D) s->seen[((char *)va - s->base) / PAGE] = 1;
  return 0;
}

/* The VM exits of fn(arg), the fewest of five tries: a timer signal (the
 * storm runs) costs a few exits wherever it lands, but not in every try. */
static uint64_t fewest_exits(void (*fn)(void *), void *arg) {
  uint64_t fewest = ~0ull;
  for (int i = 0; i < 5; ++i) {
    struct dune_stats before, after;
    dune_get_stats(&before);
    fn(arg);
    dune_get_stats(&after);
    if (after.vm_exits - before.vm_exits < fewest) fewest = after.vm_exits - before.vm_exits;
  }
  return fewest;
}

struct reads {
  char *base;
  long pages;
  struct dirty_scan *scan;
  int ok;
};

static void walk_unchanged(void *arg) {
  struct reads *r = arg;
  r->scan->visited = 0;
  if (dune_vm_page_walk(pgroot, r->base, r->base + r->pages * PAGE - 1, find_dirty, r->scan) ||
      r->scan->visited != r->pages)
    r->ok = 0;
}

/* Each page present, and one leaf table's slots consecutive (2 MiB each). */
static void lookup_each(void *arg) {
  struct reads *r = arg;
  ptent_t *first = NULL, *pte = NULL;
  for (long i = 0; i < r->pages; ++i) {
    char *va = r->base + i * PAGE;
    if (dune_vm_lookup(pgroot, va, CREATE_NONE, &pte) || !(*pte & PTE_P)) r->ok = 0;
    if (i == 0) first = pte;
    else if (((uintptr_t)va >> 21) == ((uintptr_t)r->base >> 21) && pte != first + i) r->ok = 0;
  }
}

static void test_dirty_bits(void) {
  const long pages = 1000, written = 100;
  char *base = mmap(NULL, pages * PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  check(base != MAP_FAILED, "map 1,000 pages");
  memset(base, 1, pages * PAGE);
  unsigned char seen[1000];
  struct dirty_scan s = {base, seen, 0};
  for (int round = 0; round < 3; ++round) {
    s.visited = 0;
    int r = dune_vm_page_walk(pgroot, base, base + pages * PAGE - 1, clear_dirty, &s);
    check(r == 0 && s.visited == pages, "walk visits the 1,000 mapped pages and clears their dirty bits");
    /* Reads do not dirty a page. */
    volatile long sum = 0;
    for (long i = 0; i < pages; ++i) sum += base[i * PAGE + 7];
    for (long i = 0; i < written; ++i) base[(i * 10 + round) * PAGE + 5] = (char)i;
    memset(seen, 0, sizeof seen);
    s.visited = 0;
    r = dune_vm_page_walk(pgroot, base, base + pages * PAGE - 1, find_dirty, &s);
    long found = 0, right = 0;
    for (long i = 0; i < pages; ++i) {
      found += seen[i];
      if (seen[i] && i % 10 == round) ++right;
    }
    if (found != written || right != written)
      printf("  round %d: %ld dirty pages found, %ld of them written\n", round, found, right);
    check(r == 0 && found == written && right == written,
          "the dirty-bit walk finds exactly the 100 pages written of 1,000");
  }
  /* The guest reads pgroot itself (classic/guest_walk.h): a walk that
   * changes nothing, and lookups, ask nothing of the host. */
  struct reads r0 = {base, pages, &s, 1};
  check(fewest_exits(walk_unchanged, &r0) <= 1 && r0.ok, "a walk of 1,000 pages that changes nothing takes no VM exit");
  check(fewest_exits(lookup_each, &r0) <= 1 && r0.ok, "1,000 lookups of pgroot take no VM exit and find each page");
  munmap(base, pages * PAGE);
}

/* --- the walk's coverage --- */
struct visit_log {
  char *base;
  unsigned char hit[64];
  long count;
  long stop_after;
};

static int log_visit(const void *arg, ptent_t *ptep, void *va) {
  struct visit_log *l = (struct visit_log *)arg;
  long i = ((char *)va - l->base) / PAGE;
  if (i >= 0 && i < 64) l->hit[i]++;
  if (!(*ptep & PTE_P)) return -100;
  if (++l->count == l->stop_after) return 42;
  return 0;
}

static void test_walk_coverage(void) {
  char *base = mmap(NULL, 64 * PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  memset(base, 2, 64 * PAGE);
  munmap(base + 3 * PAGE, PAGE);
  munmap(base + 10 * PAGE, 3 * PAGE);
  mprotect(base + 20 * PAGE, 2 * PAGE, PROT_NONE);
  struct visit_log l;
  memset(&l, 0, sizeof l);
  l.base = base;
  int r = dune_vm_page_walk(pgroot, base, base + 64 * PAGE - 1, log_visit, &l);
  int exact = r == 0;
  for (int i = 0; i < 64; ++i) {
    int mapped = !(i == 3 || (i >= 10 && i <= 12) || i == 20 || i == 21);
    if (l.hit[i] != mapped) exact = 0;
  }
  check(exact, "dune_vm_page_walk visits exactly the mapped pages of a range, once each");
  /* Inclusive end, start inside a page: pages 5..8. */
  memset(&l, 0, sizeof l);
  l.base = base;
  r = dune_vm_page_walk(pgroot, base + 5 * PAGE + 100, base + 8 * PAGE, log_visit, &l);
  check(r == 0 && l.count == 4 && l.hit[5] && l.hit[8] && !l.hit[4] && !l.hit[9],
        "a walk's end is inclusive and its start is rounded down to its page");
  memset(&l, 0, sizeof l);
  l.base = base;
  l.stop_after = 7;
  r = dune_vm_page_walk(pgroot, base, base + 64 * PAGE - 1, log_visit, &l);
  check(r == 42 && l.count == 7, "a callback's non-zero return stops the walk and is returned");
  munmap(base, 64 * PAGE);
}

/* --- protections and the library --- */
static volatile long faults;
static char *volatile fix_page;
static void fix_fault(uintptr_t addr, uint64_t fec, struct dune_tf *tf) {
  (void)tf;
  (void)fec;
  faults++;
  char *page = (char *)(addr & ~(PAGE - 1));
  fix_page = page;
  dune_vm_mprotect(pgroot, page, PAGE, PERM_R | PERM_W);
}

static void test_protection_kept(void) {
  /* Volatile: the compiler must not move the faulting stores past the checks. */
  volatile char *p = mmap(NULL, 4 * PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  memset((char *)p, 0, 4 * PAGE);
  check(dune_register_pgflt_handler(fix_fault) == 0, "register a Dune page-fault handler");
  faults = 0;
  check(dune_vm_mprotect(pgroot, (char *)p, 4 * PAGE, PERM_R) == 0, "dune_vm_mprotect(PERM_R)");
  ptent_t *pte = NULL;
  check(dune_vm_lookup(pgroot, (char *)p, CREATE_NONE, &pte) == 0 && pte && (*pte & PTE_P) && !(*pte & PTE_W),
        "dune_vm_lookup shows the read-only leaf");
  check(p[100] == 0 && faults == 0, "a read of a PERM_R page does not fault");
  /* Syscalls that make the library rewrite leaves elsewhere (and a resync). */
  void *other = mmap(NULL, 8 * PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  mprotect(other, 8 * PAGE, PROT_READ);
  munmap(other, 8 * PAGE);
  p[PAGE + 1] = 7;
  check(faults == 1 && fix_page == p + PAGE && p[PAGE + 1] == 7,
        "a write to it after unrelated mmap/mprotect/munmap goes to the Dune handler, which fixes it");
  p[PAGE + 2] = 8;
  check(faults == 1, "the fixed page is writable without another fault");
  /* The host's mprotect is the last word. */
  mprotect((char *)p, 4 * PAGE, PROT_READ | PROT_WRITE);
  p[2 * PAGE] = 9;
  check(faults == 1 && p[2 * PAGE] == 9, "a host mprotect over a dune_vm-protected page replaces the protection");
  check(dune_vm_unmap(pgroot, (char *)p + 3 * PAGE, PAGE) == 0, "dune_vm_unmap on pgroot");
  p[3 * PAGE] = 1;
  check(faults == 2 && fix_page == p + 3 * PAGE, "a page dune_vm_unmap took away faults to the handler");
  munmap((char *)p, 4 * PAGE);
}

/* Before any Dune handler is registered: a write to a PERM_R page is the
 * SIGSEGV Linux would send. The protection is made in the parent: a forked
 * child inherits it with its copy of the tables. */
static void test_fault_without_handler(void) {
  char *p = mmap(NULL, PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  p[0] = 1;
  check(dune_vm_mprotect(pgroot, p, PAGE, PERM_R) == 0, "protect a page read-only (no handler yet)");
  pid_t pid = fork();
  if (pid == 0) {
    if (p[0] != 1) _exit(2);
    p[0] = 2;
    _exit(3);
  }
  int st = 0;
  waitpid(pid, &st, 0);
  check(WIFSIGNALED(st) && WTERMSIG(st) == SIGSEGV,
        "without a Dune handler, the write kills with SIGSEGV (in a forked child, which keeps the protection)");
  munmap(p, PAGE);
}

static void test_bad_input(void) {
  char *p = mmap(NULL, 2 * PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  ptent_t bogus[512];
  ptent_t *pte;
  check(dune_vm_mprotect(NULL, p, PAGE, PERM_R) == -EINVAL, "NULL root: -EINVAL");
  check(dune_vm_mprotect(bogus, p, PAGE, PERM_R) == -EINVAL, "a root that is not one: -EINVAL");
  check(dune_vm_mprotect(pgroot, p + 1, PAGE, PERM_R) == -EINVAL, "unaligned va: -EINVAL");
  check(dune_vm_mprotect(pgroot, p, 0, PERM_R) == -EINVAL, "zero length: -EINVAL");
  check(dune_vm_mprotect(pgroot, (void *)(1ul << 47), PAGE, PERM_R) == -EINVAL, "kernel address: -EINVAL");
  check(dune_vm_mprotect(pgroot, (void *)((1ul << 47) - PAGE), 2 * PAGE, PERM_R) == -EINVAL,
        "range past the user half: -EINVAL");
  check(dune_vm_mprotect(pgroot, p, PAGE, PERM_W) == -EINVAL, "PERM_W without PERM_R: -EINVAL");
  check(dune_vm_mprotect(pgroot, p, PAGE, PERM_R | PERM_BIG) == -ENOTSUP, "PERM_BIG: -ENOTSUP");
  check(dune_vm_mprotect(pgroot, p, PAGE, 0x40000) == -EINVAL, "unknown permission bits: -EINVAL");
  check(dune_vm_map_phys(pgroot, p, PAGE, p + PAGE, PERM_R) == -EINVAL, "pgroot: map_phys to another page: -EINVAL");
  check(dune_vm_map_phys(pgroot, p, PAGE, (void *)dune_va_to_pa(p), PERM_R | PERM_W) == 0,
        "pgroot: map_phys to the page's own address");
  check(dune_vm_map_pages(pgroot, p, PAGE, PERM_R | PERM_W) == -EEXIST, "map_pages over mapped memory: -EEXIST");
  check(dune_vm_lookup(pgroot, (void *)(1ul << 47), 0, &pte) == -EINVAL, "lookup of a kernel address: -EINVAL");
  check(dune_vm_lookup(pgroot, p, 0, NULL) == -EINVAL, "lookup with NULL pte_out: -EINVAL");
  ptent_t *empty = dune_vm_new_root();
  /* 1 TiB: far from everything a new root holds (the monitor's pages, which
   * may share p's 2 MiB table on some hosts). */
  check(empty != NULL && dune_vm_lookup(empty, (void *)(1ul << 40), CREATE_NONE, &pte) == -ENOENT,
        "lookup where no table is: -ENOENT");
  check(dune_vm_lookup(empty, p, CREATE_NORMAL, &pte) == 0 && *pte == 0, "lookup with CREATE_NORMAL makes the tables");
  check(dune_vm_lookup(empty, p, 2, &pte) == -ENOTSUP, "lookup with CREATE_BIG: -ENOTSUP");
  dune_vm_free(empty);
  check(dune_vm_page_walk(pgroot, p, p + PAGE, NULL, NULL) == -EINVAL, "walk without callback: -EINVAL");
  check(dune_vm_page_walk(pgroot, p + PAGE, p, clear_dirty, NULL) == -EINVAL, "walk with end < start: -EINVAL");
  check(dune_vm_clone(bogus) == NULL, "clone of a bad root: NULL");
  dune_vm_free(pgroot);
  dune_vm_free(bogus);
  check(dune_set_user_root(bogus) == -EINVAL, "dune_set_user_root of a bad root: -EINVAL");
  check(dune_vm_unmap(pgroot, p + 3, PAGE) == -EINVAL, "unmap at unaligned va: -EINVAL");
  char *fresh = (char *)0x6f0000000000ul;
  check(dune_vm_map_pages(pgroot, fresh, 2 * PAGE, PERM_R | PERM_W) == 0, "map_pages where nothing is mapped");
  fresh[PAGE] = 3;
  check(fresh[PAGE] == 3, "the new pages are usable");
  munmap(fresh, 2 * PAGE);
  munmap(p, 2 * PAGE);
}

int main(void) {
  int r = dune_init_and_enter();
  if (r) dune_test_skip_or_fail("vm_pagetable", r);
  check(pgroot != NULL && (pgroot[0] != 0 || 1), "pgroot is set and readable");
  test_dirty_bits();
  test_walk_coverage();
  test_fault_without_handler();
  test_protection_kept();
  test_bad_input();
  printf("vm_pagetable: %s\n", failures ? "FAILED" : "all passed");
  return failures ? 1 : 0;
}
