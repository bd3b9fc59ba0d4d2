/* vm_fault: the cost of one protection fault handled by the program, per
 * fault, in one run: Linux mprotect + SIGSEGV + mprotect natively; the same in
 * Dune mode (POSIX signals delivered by the library); and dune_vm_mprotect +
 * a Dune page-fault handler that fixes the page with dune_vm_mprotect. Each
 * sample: protect one page, write it (the fault), the handler unprotects it.
 * Medians of N samples, in cycles (the TSC). */
#include <dune/dune.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>

#include "bench_util.h"

#define N 2000
#define PAGE 4096ul

static char *page;
static volatile long faults;

static void on_segv(int sig, siginfo_t *si, void *uc) {
  (void)sig;
  (void)uc;
  faults++;
  mprotect((void *)((uintptr_t)si->si_addr & ~(PAGE - 1)), PAGE, PROT_READ | PROT_WRITE);
}

static void on_dune_fault(uintptr_t addr, uint64_t fec, struct dune_tf *tf) {
  (void)fec;
  (void)tf;
  faults++;
  dune_vm_mprotect(pgroot, (void *)(addr & ~(PAGE - 1)), PAGE, PERM_R | PERM_W);
}

static uint64_t linux_round(uint64_t *s, uint64_t overhead) {
  for (int i = 0; i < N; ++i) {
    uint64_t a = bench_tsc();
    mprotect(page, PAGE, PROT_READ);
    ((volatile char *)page)[i % PAGE] = 1;
    s[i] = bench_tsc() - a - overhead;
  }
  return bench_median(s, N);
}

static uint64_t dune_round(uint64_t *s, uint64_t overhead) {
  for (int i = 0; i < N; ++i) {
    uint64_t a = bench_tsc();
    dune_vm_mprotect(pgroot, page, PAGE, PERM_R);
    ((volatile char *)page)[i % PAGE] = 1;
    s[i] = bench_tsc() - a - overhead;
  }
  return bench_median(s, N);
}

int main(void) {
  static uint64_t s[N];
  uint64_t overhead = bench_tsc_overhead();
  page = mmap(NULL, PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  memset(page, 0, PAGE);
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_sigaction = on_segv;
  sa.sa_flags = SA_SIGINFO;
  sigaction(SIGSEGV, &sa, NULL);
  faults = 0;
  uint64_t native = linux_round(s, overhead);
  long native_faults = faults;
  int r = dune_init_and_enter();
  if (r) {
    printf("vm_fault: cannot enter Dune mode (%d)\n", r);
    return 1;
  }
  faults = 0;
  uint64_t in_dune = linux_round(s, overhead);
  long signal_faults = faults;
  dune_register_pgflt_handler(on_dune_fault);
  faults = 0;
  uint64_t classic = dune_round(s, overhead);
  long dune_faults = faults;
  printf("%-58s %12s\n", "protect + fault + fix, per fault (median)", "cycles");
  printf("%-58s %12llu\n", "native: mprotect + SIGSEGV handler + mprotect", (unsigned long long)native);
  printf("%-58s %12llu\n", "Dune mode: mprotect + SIGSEGV handler + mprotect", (unsigned long long)in_dune);
  printf("%-58s %12llu\n", "Dune mode: dune_vm_mprotect + Dune handler + dune_vm_mprotect",
         (unsigned long long)classic);
  printf("faults taken: %ld native, %ld signal in Dune mode, %ld Dune handler (of %d each)\n", native_faults,
         signal_faults, dune_faults, N);
  return native_faults == N && signal_faults == N && dune_faults == N ? 0 : 1;
}
