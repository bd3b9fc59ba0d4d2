/* mprotect: a write to a protected page is a precise page fault given to the
 * program's Dune handler, which runs on the program's own stack (printf
 * included), unprotects the page and returns; the write then completes. The
 * same for a read of an unmapped page that the handler maps. */
#include <dune/dune.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "test_support.h"

static char *page;
static int faults;
static int failures;
static uintptr_t stack_lo, stack_hi;

/* The faulting instructions, at known addresses. */
extern char write_insn[], read_insn[];
static void write_byte(char *p, char v) {
  __asm__ volatile(".globl write_insn\nwrite_insn: movb %1, (%0)" : : "r"(p), "r"(v) : "memory");
}
static char read_byte(const char *p) {
  char v;
  __asm__ volatile(".globl read_insn\nread_insn: movb (%1), %0" : "=r"(v) : "r"(p) : "memory");
  return v;
}

static void check(int ok, const char *what) {
  if (!ok) {
    printf("mprotect: FAIL: %s\n", what);
    ++failures;
  }
}

static void pgflt(uintptr_t addr, uint64_t fec, struct dune_tf *tf) {
  int local;
  ++faults;
  printf("mprotect: page fault at offset %ld, %s, %s\n", (long)(addr - (uintptr_t)page),
         (fec & FEC_W) ? "write" : "read", (fec & FEC_P) ? "protection" : "not present");
  /* The handler runs on the interrupted stack, below the red zone. */
  check((uintptr_t)&local < tf->rsp && (uintptr_t)&local > tf->rsp - 65536,
        "handler not on the program's stack");
  check((uintptr_t)&local >= stack_lo && (uintptr_t)&local < stack_hi, "handler outside the stack mapping");
  check(tf->vector == T_PGFLT, "vector");
  check(tf->cs == 0x33 && tf->ss == 0x2b, "segments");
  if (fec & FEC_W) {
    check(tf->rip == (uintptr_t)write_insn, "write fault rip");
    check(addr == (uintptr_t)page + 100, "write fault address");
    check((fec & FEC_P) && (fec & FEC_U), "write fault error code");
    mprotect(page, 4096, PROT_READ | PROT_WRITE);
  } else {
    check(tf->rip == (uintptr_t)read_insn, "read fault rip");
    check(addr == (uintptr_t)page + 4096 + 8, "read fault address");
    check(!(fec & FEC_P), "read fault error code");
    void *p = mmap(page + 4096, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0);
    check(p == page + 4096, "mmap in handler");
    page[4096 + 8] = 7;
  }
}

static void find_stack(void) {
  char line[512];
  uintptr_t here = (uintptr_t)line;
  FILE *f = fopen("/proc/self/maps", "r");
  while (f && fgets(line, sizeof line, f)) {
    unsigned long lo, hi;
    if (sscanf(line, "%lx-%lx", &lo, &hi) == 2 && here >= lo && here < hi) {
      stack_lo = lo;
      stack_hi = hi;
    }
  }
  if (f) fclose(f);
}

int main(void) {
  int r = dune_init_and_enter();
  if (r) dune_test_skip_or_fail("mprotect", r);
  page = mmap(NULL, 2 * 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  munmap(page + 4096, 4096);
  find_stack();
  stack_lo -= 1 << 20; /* the stack may grow while the test runs */
  memset(page, 1, 4096);
  dune_register_pgflt_handler(pgflt);
  mprotect(page, 4096, PROT_READ);
  write_byte(page + 100, 42);
  check(page[100] == 42, "the write did not complete");
  check(read_byte(page + 4096 + 8) == 7, "the read did not complete");
  check(faults == 2, "expected 2 faults");
  printf(failures ? "mprotect: FAIL\n" : "mprotect: ok\n");
  return failures ? 1 : 0;
}
