/* vm_fault: the cost of one fault handled by the program, per fault, in one
 * run, natively and in Dune mode:
 *  - protect + fault + fix: protect one page, write it, the handler
 *    unprotects it (Linux mprotect + SIGSEGV; the same through the library's
 *    signals; dune_vm_mprotect + a Dune page-fault handler);
 *  - the old Dune idiom: the page's entry lowered through dune_vm_lookup's
 *    pointer and dune_flush_tlb_one, the handler sets PTE_W itself;
 *  - user fault: a store to a read-only page that the handler skips (moves
 *    rip past it), nothing else: the fault's delivery and return alone;
 *  - protect N + fault each: NPAGES pages protected in one call, then each
 *    written once, the handler unprotecting its page (appel's PROTN; per
 *    fault, the protection's cost shared).
 * Medians of N samples, in cycles (the TSC), and the VM exits per fault from
 * dune_get_stats. Where the exception gate is (hardware virtualization:
 * monitor/exception_gate.h) a Dune handler costs no exit; DUNE_EXCEPTION_GATE=0
 * measures the host's path on the same CPU. */
#define _GNU_SOURCE
#include <dune/dune.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <ucontext.h>

#include "bench_util.h"

#define PAGE 4096ul
#define NPAGES 100

static long n_samples = 2000;
static char *page;
static char *many; /* NPAGES pages */
static ptent_t *pte;
static volatile long faults;

/* The store the user-fault rows skip: vmf_store(p) writes *p, the handlers
 * resume at vmf_resume. */
__asm__(".text\n"
        ".globl vmf_store\n"
        "vmf_store: movb $1, (%rdi)\n"
        ".globl vmf_resume\n"
        "vmf_resume: ret\n");
void vmf_store(char *p);
extern char vmf_resume[];

static void on_segv_fix(int sig, siginfo_t *si, void *uc) {
  (void)sig;
  (void)uc;
  faults++;
  mprotect((void *)((uintptr_t)si->si_addr & ~(PAGE - 1)), PAGE, PROT_READ | PROT_WRITE);
}

static void on_segv_skip(int sig, siginfo_t *si, void *ctx) {
  (void)sig;
  (void)si;
  ucontext_t *uc = ctx;
  faults++;
  uc->uc_mcontext.gregs[REG_RIP] = (greg_t)(uintptr_t)vmf_resume;
}

static void on_dune_fix(uintptr_t addr, uint64_t fec, struct dune_tf *tf) {
  (void)fec;
  (void)tf;
  faults++;
  dune_vm_mprotect(pgroot, (void *)(addr & ~(PAGE - 1)), PAGE, PERM_R | PERM_W);
}

static void on_dune_pte(uintptr_t addr, uint64_t fec, struct dune_tf *tf) {
  (void)addr;
  (void)fec;
  (void)tf;
  faults++;
  *pte |= PTE_W;
}

static void on_dune_skip(uintptr_t addr, uint64_t fec, struct dune_tf *tf) {
  (void)addr;
  (void)fec;
  faults++;
  tf->rip = (uintptr_t)vmf_resume;
}

static void set_segv(void (*fn)(int, siginfo_t *, void *)) {
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_sigaction = fn;
  sa.sa_flags = SA_SIGINFO;
  sigaction(SIGSEGV, &sa, NULL);
}

enum how { kMprotect, kDuneMprotect, kDunePte, kSkip, kMprotectN, kDuneMprotectN };

/* The median of the samples; *fewest gets the smallest. */
static uint64_t round_of(enum how how, uint64_t *s, uint64_t overhead, uint64_t *fewest) {
  if (how == kMprotectN || how == kDuneMprotectN) {
    /* One sample per NPAGES faults: the median of their mean. */
    long rounds = n_samples / NPAGES > 0 ? n_samples / NPAGES : 1;
    for (long i = 0; i < rounds; ++i) {
      uint64_t a = bench_tsc();
      if (how == kMprotectN) mprotect(many, NPAGES * PAGE, PROT_READ);
      else dune_vm_mprotect(pgroot, many, NPAGES * PAGE, PERM_R);
      for (long k = 0; k < NPAGES; ++k) ((volatile char *)many)[k * PAGE + i % 64] = 1;
      s[i] = (bench_tsc() - a - overhead) / NPAGES;
    }
    uint64_t m = bench_median(s, (size_t)rounds);
    *fewest = s[0];
    return m;
  }
  for (long i = 0; i < n_samples; ++i) {
    uint64_t a = bench_tsc();
    switch (how) {
      case kMprotect: mprotect(page, PAGE, PROT_READ); break;
      case kDuneMprotect: dune_vm_mprotect(pgroot, page, PAGE, PERM_R); break;
      case kDunePte:
        *pte &= ~PTE_W;
        dune_flush_tlb_one((uintptr_t)page);
        break;
      case kSkip:
      case kMprotectN:
      case kDuneMprotectN: break;
    }
    if (how == kSkip) vmf_store(page + i % PAGE);
    else ((volatile char *)page)[i % PAGE] = 1;
    s[i] = bench_tsc() - a - overhead;
  }
  uint64_t m = bench_median(s, (size_t)n_samples);
  *fewest = s[0];
  return m;
}

static uint64_t exits(void) {
  struct dune_stats st;
  return dune_get_stats(&st) == 0 ? st.vm_exits : 0;
}

struct row {
  const char *what;
  uint64_t cycles, fewest;
  double exits; /* per fault; < 0: native */
  long faults, expected;
};

static struct row measure(const char *what, enum how how, uint64_t *s, uint64_t overhead, int in_dune) {
  struct row r = {what, 0, 0, -1, 0, 0};
  faults = 0;
  uint64_t e0 = in_dune ? exits() : 0;
  r.cycles = round_of(how, s, overhead, &r.fewest);
  long expected = n_samples;
  if (how == kMprotectN || how == kDuneMprotectN)
    expected = (n_samples / NPAGES > 0 ? n_samples / NPAGES : 1) * NPAGES;
  if (in_dune) r.exits = (double)(exits() - e0 - 1) / (double)expected;
  r.faults = faults;
  r.expected = expected;
  return r;
}

int main(int argc, char **argv) {
  /* The test beds pass no arguments: VM_FAULT_SAMPLES there. */
  const char *env = getenv("VM_FAULT_SAMPLES");
  if (argc > 1) n_samples = atol(argv[1]);
  else if (env) n_samples = atol(env);
  if (n_samples < 1 || n_samples > 1000000) {
    fprintf(stderr, "usage: vm_fault [SAMPLES (1..1000000, default 2000)]\n");
    return 2;
  }
  uint64_t *s = calloc((size_t)n_samples, sizeof *s);
  uint64_t overhead = bench_tsc_overhead();
  page = mmap(NULL, PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  many = mmap(NULL, NPAGES * PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (!s || page == MAP_FAILED || many == MAP_FAILED) return 1;
  memset(page, 0, PAGE);
  memset(many, 0, NPAGES * PAGE);
  struct row rows[9];
  int n = 0;
  set_segv(on_segv_fix);
  rows[n++] = measure("native: mprotect + SIGSEGV handler + mprotect", kMprotect, s, overhead, 0);
  set_segv(on_segv_skip);
  mprotect(page, PAGE, PROT_READ);
  rows[n++] = measure("native: user fault (SIGSEGV handler skips the store)", kSkip, s, overhead, 0);
  mprotect(page, PAGE, PROT_READ | PROT_WRITE);
  set_segv(on_segv_fix);
  rows[n++] = measure("native: mprotect 100 pages + fault each + mprotect its page", kMprotectN, s, overhead, 0);
  int r = dune_init_and_enter();
  if (r) {
    printf("vm_fault: cannot enter Dune mode (%d)\n", r);
    return 1;
  }
  set_segv(on_segv_fix);
  rows[n++] = measure("Dune mode: mprotect + SIGSEGV handler + mprotect", kMprotect, s, overhead, 1);
  dune_register_pgflt_handler(on_dune_fix);
  rows[n++] = measure("Dune mode: dune_vm_mprotect + Dune handler + dune_vm_mprotect", kDuneMprotect, s,
                      overhead, 1);
  /* Read-only for the library too, so that a write is the program's fault
   * (else the host would take a lowered entry for a stale one and restore it). */
  dune_vm_mprotect(pgroot, page, PAGE, PERM_R);
  dune_vm_lookup(pgroot, page, CREATE_NONE, &pte);
  dune_register_pgflt_handler(on_dune_pte);
  rows[n++] = measure("Dune mode: PTE lowered + flush, handler sets PTE_W", kDunePte, s, overhead, 1);
  dune_register_pgflt_handler(on_dune_skip);
  dune_vm_mprotect(pgroot, page, PAGE, PERM_R);
  rows[n++] = measure("Dune mode: user fault (Dune handler skips the store)", kSkip, s, overhead, 1);
  dune_register_pgflt_handler(on_dune_fix);
  rows[n++] = measure("Dune mode: dune_vm_mprotect 100 pages + fault each + its page", kDuneMprotectN, s,
                      overhead, 1);
  printf("%-62s %12s %12s %12s\n", "per fault", "median", "fewest", "exits/fault");
  int ok = 1;
  for (int i = 0; i < n; ++i) {
    if (rows[i].exits < 0)
      printf("%-62s %12llu %12llu %12s\n", rows[i].what, (unsigned long long)rows[i].cycles,
             (unsigned long long)rows[i].fewest, "-");
    else
      printf("%-62s %12llu %12llu %12.2f\n", rows[i].what, (unsigned long long)rows[i].cycles,
             (unsigned long long)rows[i].fewest, rows[i].exits);
    if (rows[i].faults != rows[i].expected) {
      printf("vm_fault: %s: %ld faults of %ld\n", rows[i].what, rows[i].faults, rows[i].expected);
      ok = 0;
    }
  }
  printf("Dune / native: protect+fault+fix (PROT1) %.3f, protect N (PROTN) %.3f, user fault %.3f (flavour %s)\n",
         (double)rows[4].cycles / (double)rows[0].cycles, (double)rows[7].cycles / (double)rows[2].cycles,
         (double)rows[6].cycles / (double)rows[1].cycles, dune_flavour_name(dune_get_flavour()));
  return ok ? 0 : 1;
}
