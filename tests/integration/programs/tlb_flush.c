/* tlb_flush: editing a page-table entry through dune_vm_lookup's pointer and
 * then calling dune_flush_tlb_one or dune_flush_tlb: a lowered entry must
 * fault at once, on this thread and on another that keeps writing; and the old
 * Dune idiom of a page-fault handler that grants the write itself
 * (*pte |= PTE_W, a flush, return). With one vCPU on hardware virtualization
 * (vmx, svm, dune-module) a flush is done by the guest in ring 0 and takes no
 * VM exit; elsewhere, or with more vCPUs, the host does it. */
#include <dune/dune.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/time.h>
#include <unistd.h>

#include "test_support.h"

#define PAGE 4096ul

static void check(int ok, const char *what) { dune_test_check("tlb_flush", ok, what); }

static char *page;       /* the page this thread lowers and writes */
static char *other_page; /* the page the second thread writes */
static ptent_t *pte, *other_pte;
static atomic_long handled, bad_faults;

/* The old idiom: the handler grants the write itself and returns. The
 * writer thread's page comes here too when the library declines to restore an
 * entry that keeps being lowered under the same instruction (its loop guard):
 * granted the same way. */
static void on_fault(uintptr_t addr, uint64_t fec, struct dune_tf *tf) {
  if ((addr & ~(PAGE - 1)) == (uintptr_t)page && (fec & 2) && tf->rip) {
    *pte |= PTE_W;
    dune_flush_tlb_one(addr);
    atomic_fetch_add(&handled, 1);
    return;
  }
  if ((addr & ~(PAGE - 1)) == (uintptr_t)other_page && (fec & 2)) {
    *other_pte |= PTE_W;
    dune_flush_tlb_one(addr);
    return;
  }
  fprintf(stderr, "tlb_flush: unexpected fault at %#lx, error code %#lx, rip %#lx\n", (unsigned long)addr,
          (unsigned long)fec, (unsigned long)tf->rip);
  atomic_fetch_add(&bad_faults, 1);
  exit(1);
}

static struct dune_stats stats(void) {
  struct dune_stats s = {0};
  dune_get_stats(&s);
  return s;
}

/* n flushes of each kind; returns the VM exits they took. */
static uint64_t exits_of_flushes(long n) {
  uint64_t before = stats().vm_exits;
  for (long i = 0; i < n; ++i) {
    dune_flush_tlb_one((unsigned long)page);
    dune_flush_tlb();
  }
  return stats().vm_exits - before;
}

/* A lowering written into the entry, then flushed: the next write must fault
 * (the CPU saw it; the library, whose records still say writable, then
 * restores the entry and the write completes). */
static void lower_flush_write(long rounds, int whole, const char *what) {
  int ok = 1;
  for (long i = 0; i < rounds; ++i) {
    uint64_t before = stats().page_faults;
    *pte &= ~PTE_W;
    if (whole)
      dune_flush_tlb();
    else
      dune_flush_tlb_one((unsigned long)page + 123); /* any address in the page */
    page[i % PAGE] = (char)i;
    if (stats().page_faults != before + 1 || page[i % PAGE] != (char)i) ok = 0;
  }
  check(ok, what);
}

/* Flushes while a timer signal keeps coming: a signal that stops the guest
 * inside the gate must not lose the flush nor the program's registers. */
static volatile sig_atomic_t ticks;
static void on_tick(int sig) {
  (void)sig;
  ++ticks;
}
static void flush_under_signals(long rounds) {
  dune_test_handle(SIGALRM, on_tick, SA_RESTART);
  long period = dune_test_signal_period_usec(1000);
  struct itimerval it = {{period / 1000000, period % 1000000}, {period / 1000000, period % 1000000}};
  setitimer(ITIMER_REAL, &it, NULL);
  int ok = 1;
  uint64_t before = stats().page_faults;
  long i = 0;
  for (; i < rounds || ticks < 3; ++i) {
    *pte &= ~PTE_W;
    if (i & 1)
      dune_flush_tlb();
    else
      dune_flush_tlb_one((unsigned long)page);
    page[i % PAGE] = (char)i;
    if (page[i % PAGE] != (char)i) ok = 0;
    if (i > 100 * rounds) break; /* no signals at all: reported below */
  }
  struct itimerval off = {{0, 0}, {0, 0}};
  setitimer(ITIMER_REAL, &off, NULL);
  uint64_t faults = stats().page_faults - before;
  printf("tlb_flush: %ld lower/flush/write rounds under a timer signal: %ld signals, %llu faults\n", i,
         (long)ticks, (unsigned long long)faults);
  check(ok && ticks >= 3 && faults == (uint64_t)i, "under a timer signal: every lowering still faults once");
}

static atomic_int writer_stop;
static void *writer(void *arg) {
  (void)arg;
  long i = 0;
  while (!atomic_load(&writer_stop)) other_page[(i++ * 64) % PAGE] = 1;
  return NULL;
}

int main(void) {
  setvbuf(stdout, NULL, _IOLBF, 0); /* a bed that stops the run keeps every line */
  int r = dune_init_and_enter();
  if (r) dune_test_skip_or_fail("tlb_flush", r);
  enum dune_flavour f = dune_get_flavour();
  int native_ring0 = f == DUNE_FLAVOUR_VMX || f == DUNE_FLAVOUR_SVM || f == DUNE_FLAVOUR_MODULE;
  printf("tlb_flush: flavour %s\n", dune_flavour_name(f));

  page = mmap(NULL, 2 * PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  check(page != MAP_FAILED, "map two pages");
  other_page = page + PAGE;
  memset(page, 0, 2 * PAGE);
  check(dune_vm_lookup(pgroot, page, 0, &pte) == 0 && (*pte & PTE_W), "dune_vm_lookup finds the page writable");
  check(dune_vm_lookup(pgroot, other_page, 0, &other_pte) == 0, "and the second one");
  check(dune_register_pgflt_handler(on_fault) == 0, "register the page-fault handler");

  long rounds = dune_test_count(500, 100);
  lower_flush_write(rounds, 0, "one thread: after *pte &= ~PTE_W and dune_flush_tlb_one, each write faults once");
  lower_flush_write(rounds, 1, "one thread: the same with dune_flush_tlb");

  /* dune_vm_mprotect lowers; the handler grants and flushes (the old idiom). */
  int ok = 1;
  for (long i = 0; i < rounds; ++i) {
    long before = atomic_load(&handled);
    if (dune_vm_mprotect(pgroot, page, PAGE, PERM_R)) ok = 0;
    page[(i * 8) % PAGE] = (char)i;
    if (atomic_load(&handled) != before + 1 || page[(i * 8) % PAGE] != (char)i) ok = 0;
  }
  check(ok && atomic_load(&bad_faults) == 0,
        "dune_vm_mprotect(PERM_R): each write reaches the handler once, which grants it with *pte |= PTE_W");

  flush_under_signals(dune_test_count(2000, 500));

  /* Only a signal may add an exit (the storm tests fire one throughout). */
  long n = dune_test_count(200, 50);
  uint64_t one_vcpu = exits_of_flushes(n);
  printf("tlb_flush: %ld flushes of each kind, one vCPU: %llu VM exits\n", n, (unsigned long long)one_vcpu);
  if (native_ring0)
    check(one_vcpu <= (uint64_t)n / 10, "one vCPU on hardware: the flushes take no VM exit (done in the guest)");
  else
    check(one_vcpu >= (uint64_t)2 * n, "here every flush is a hypercall");

  /* A second thread keeps writing its page; a lowering of its entry must
   * reach that thread's vCPU: the host flushes every vCPU now. */
  pthread_t t;
  check(pthread_create(&t, NULL, writer, NULL) == 0, "start a writer thread");
  int seen = 0;
  for (int round = 0; round < 20; ++round) {
    uint64_t before = stats().page_faults;
    *other_pte &= ~PTE_W;
    dune_flush_tlb_one((unsigned long)other_page);
    struct timespec t0;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    /* The fault is counted before the writer's side has put the entry back:
     * wait for both, or the next lowering races with that restore. */
    /* Emulated beds run ~45 s of wall time per emulated second: a lost
     * lowering must not eat the bed's time budget. */
    while ((stats().page_faults == before || !(*other_pte & PTE_W)) &&
           dune_test_nsec_since(&t0) < 2000000000L) {
    }
    if (stats().page_faults > before)
      ++seen;
    else
      printf("tlb_flush: round %d: no fault of the writer in %ld ms (its entry %#llx)\n", round,
             dune_test_nsec_since(&t0) / 1000000, (unsigned long long)*other_pte);
  }
  atomic_store(&writer_stop, 1);
  pthread_join(t, NULL);
  check(seen == 20, "two vCPUs: each of 20 lowerings reached the writing thread (it faulted)");
  uint64_t two = exits_of_flushes(n);
  printf("tlb_flush: %ld flushes of each kind, two vCPUs: %llu VM exits\n", n, (unsigned long long)two);
  check(two >= (uint64_t)2 * n, "with two vCPUs every flush goes through the host (all vCPUs)");
  lower_flush_write(rounds, 0, "after the thread: lowerings still fault at once");

  printf("tlb_flush: %s\n", dune_test_failures ? "FAILED" : "ok");
  return dune_test_failures ? 1 : 0;
}
