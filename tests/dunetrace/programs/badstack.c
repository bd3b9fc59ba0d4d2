/* badstack.c - a Dune page-fault handler that moves the stack pointer off the stack.
 *
 *   badstack heap      the handler resumes at lost_in_the_heap() with rsp in an
 *                      anonymous mapping; that function makes a syscall, exits 0
 *   badstack nowhere   the handler resumes at lost_in_nowhere() with rsp where
 *                      nothing is mapped: its first push faults, SIGSEGV
 * The lines dunetrace's backtrace must name are marked with their mode. */
#define _GNU_SOURCE
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "test_support.h"

#define HEAP_STACK_BYTES (64 * 1024)

static char *g_heap_stack;
static int g_nowhere;

__attribute__((noinline)) static void lost_in_the_heap(void) {
  syscall(SYS_getppid); /* LINE:heap */
  _exit(0);
}

__attribute__((noinline)) static void lost_in_nowhere(void) {
  syscall(SYS_getppid); /* LINE:nowhere */
  _exit(0);
}

static void on_page_fault(uintptr_t addr, uint64_t fec, struct dune_tf *tf) {
  (void)addr;
  (void)fec;
  if (g_nowhere) {
    tf->rsp = 0x10000; /* nothing is mapped this low */
    tf->rip = (uintptr_t)lost_in_nowhere;
  } else {
    tf->rsp = (uintptr_t)g_heap_stack + HEAP_STACK_BYTES - 64;
    tf->rip = (uintptr_t)lost_in_the_heap;
  }
}

int main(int argc, char **argv) {
  if (argc < 2 || (strcmp(argv[1], "heap") != 0 && strcmp(argv[1], "nowhere") != 0)) {
    fprintf(stderr, "usage: badstack heap|nowhere\n");
    return 2;
  }
  g_nowhere = strcmp(argv[1], "nowhere") == 0;
  g_heap_stack = mmap(NULL, HEAP_STACK_BYTES, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  char *guard = mmap(NULL, 4096, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (g_heap_stack == MAP_FAILED || guard == MAP_FAILED) return 1;
  int r = dune_init_and_enter();
  if (r) dune_test_skip_or_fail("badstack", r);
  dune_register_pgflt_handler(on_page_fault);
  *(volatile char *)guard = 1; /* the handler takes it from here */
  return 1;
}
