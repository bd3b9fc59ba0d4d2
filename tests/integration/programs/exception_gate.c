/* exception_gate: Dune handlers for exceptions the program asked for, as the
 * program sees them, whichever path runs them: the exception gate in guest
 * ring 0 (vmx, svm, dune-module: no VM exit per fault) or the host (PVM, or
 * DUNE_EXCEPTION_GATE=0). Pins: the address, error code, vector and rip a
 * handler sees; the interrupted registers and vector state after it returns;
 * a fault inside a handler; a handler that edits the PTE itself; no access
 * (PERM_NONE, dune_vm_unmap) and a clone's leaves; #UD to an
 * interrupt handler that steps over the instruction; another thread; a fork
 * child; and, where the gate is, no VM exit per fault. */
#include <dune/dune.h>
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <unistd.h>

#include "test_support.h"

#define PAGE 4096ul
#define NPAGES 4

static void check(int ok, const char *what) { dune_test_check("exception_gate", ok, what); }

static char *pages;      /* NPAGES pages, each protected read-only in turn */
static ptent_t *ptes[NPAGES];

/* What the last handler saw. */
static volatile uintptr_t seen_addr;
static volatile uint64_t seen_fec, seen_rip, seen_vector;
static volatile long faults, nested_faults;
static volatile int nest; /* the handler of page 0 writes page 1 first */
static atomic_long thread_faults;
static long lost_xmm, lost_rbx; /* stores after which a register was not the program's */
static atomic_long protect_failures;

static void on_fault(uintptr_t addr, uint64_t fec, struct dune_tf *tf) {
  char *page = (char *)(addr & ~(PAGE - 1));
  int i = (int)((page - pages) / (long)PAGE);
  if (page < pages || i >= NPAGES || !(fec & 2)) {
    fprintf(stderr, "exception_gate: unexpected fault at %#lx, error code %#lx, rip %#lx\n", (unsigned long)addr,
            (unsigned long)fec, (unsigned long)tf->rip);
    exit(1);
  }
  if (i == 0 && nest) {
    nest = 0;
    pages[PAGE] = 7; /* page 1 is protected too: a fault inside this handler */
  }
  if (i == 1) nested_faults++;
  if (i == 3) atomic_fetch_add(&thread_faults, 1);
  seen_addr = addr;
  seen_fec = fec;
  seen_rip = tf->rip;
  seen_vector = tf->vector;
  /* The handler's own vector registers are its business: the interrupted
   * code must get its own back. */
  __asm__ volatile("pcmpeqd %%xmm0, %%xmm0\n\tpcmpeqd %%xmm1, %%xmm1" ::: "xmm0", "xmm1");
  /* The old idiom: grant the write and return. */
  *ptes[i] |= PTE_W;
  faults++;
}

/* #UD: step over the ud2 and note it. */
static volatile long ud_seen;
static volatile uint64_t ud_rip;
static void on_ud(struct dune_tf *tf) {
  ud_rip = tf->rip;
  ud_seen++;
  tf->rip += 2;
}

static void protect(int i) {
  if (dune_vm_mprotect(pgroot, pages + i * PAGE, PAGE, PERM_R) != 0) atomic_fetch_add(&protect_failures, 1);
}

/* 4c. What a handler writes into *tf is the state execution resumes with:
 * every register, the flags, a stack of its choosing, the rip past the store
 * (the return in ring 3 where the gate is, through the host elsewhere). */
uint64_t er_out[16], er_saved_rsp;
uint8_t er_cf;
uint64_t er_stack[64] __attribute__((aligned(16)));
void er_run(char *page);
__asm__(".text\n"
        ".globl er_run\n"
        "er_run:\n"
        "  pushq %rbx\n  pushq %rbp\n  pushq %r12\n  pushq %r13\n  pushq %r14\n  pushq %r15\n"
        "  movq %rsp, er_saved_rsp(%rip)\n"
        "  clc\n"
        "  movb $1, (%rdi)\n" /* 3 bytes: the handler moves rip past it */
        "  setc er_cf(%rip)\n"
        "  movq %rax, er_out+0(%rip)\n  movq %rbx, er_out+8(%rip)\n  movq %rcx, er_out+16(%rip)\n"
        "  movq %rdx, er_out+24(%rip)\n  movq %rsi, er_out+32(%rip)\n  movq %rdi, er_out+40(%rip)\n"
        "  movq %rbp, er_out+48(%rip)\n  movq %r8, er_out+56(%rip)\n  movq %r9, er_out+64(%rip)\n"
        "  movq %r10, er_out+72(%rip)\n  movq %r11, er_out+80(%rip)\n  movq %r12, er_out+88(%rip)\n"
        "  movq %r13, er_out+96(%rip)\n  movq %r14, er_out+104(%rip)\n  movq %r15, er_out+112(%rip)\n"
        "  movq %rsp, er_out+120(%rip)\n"
        "  movq er_saved_rsp(%rip), %rsp\n"
        "  popq %r15\n  popq %r14\n  popq %r13\n  popq %r12\n  popq %rbp\n  popq %rbx\n"
        "  ret\n");

static uint64_t er_value(int i) { return 0x1000000000000000ull * (uint64_t)(i % 15 + 1) + 0x1234567ull * (uint64_t)i; }

static void on_edit(uintptr_t addr, uint64_t fec, struct dune_tf *tf) {
  (void)addr;
  (void)fec;
  /* In er_out's order (struct dune_tf is packed: no pointers to its fields). */
  tf->rax = er_value(0), tf->rbx = er_value(1), tf->rcx = er_value(2), tf->rdx = er_value(3);
  tf->rsi = er_value(4), tf->rdi = er_value(5), tf->rbp = er_value(6), tf->r8 = er_value(7);
  tf->r9 = er_value(8), tf->r10 = er_value(9), tf->r11 = er_value(10), tf->r12 = er_value(11);
  tf->r13 = er_value(12), tf->r14 = er_value(13), tf->r15 = er_value(14);
  tf->rflags |= 1; /* CF */
  tf->rsp = (uint64_t)&er_stack[48];
  tf->rip += 3;
}

static void test_edited_return(void) {
  char *page = mmap(NULL, PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  page[0] = 0;
  check(dune_vm_mprotect(pgroot, page, PAGE, PERM_R) == 0, "dune_vm_mprotect(PERM_R) of a fresh page");
  check(dune_register_pgflt_handler(on_edit) == 0, "a handler that edits *tf");
  er_run(page);
  int same = 1;
  for (int i = 0; i < 15; ++i) same &= er_out[i] == er_value(i);
  check(same, "every register the handler wrote is the one execution resumes with");
  check(er_cf == 1, "and the flags (CF set by the handler)");
  check(er_out[15] == (uint64_t)&er_stack[48], "and the stack pointer it chose");
  check(page[0] == 0, "the store it stepped over did not happen");
  dune_register_pgflt_handler(on_fault);
  munmap(page, PAGE);
}

/* Re-lowers page i the cheap way (its leaf already carries the program's
 * protection), then writes it: one fault, handled. */
static void lower(int i) {
  *ptes[i] &= ~PTE_W;
  dune_flush_tlb_one((uintptr_t)(pages + i * PAGE));
}

/* A store to page i that faults, with xmm0 and rbx set around it; returns the
 * store's address (its rip) through *rip. Checks that both survived. */
static void store_with_state(int i, uint64_t *rip) {
  uint64_t pattern = 0x0123456789abcdefull, xmm_after = 0, rbx_after = 0, at = 0;
  __asm__ volatile(
      "movq %[pat], %%xmm0\n\t"
      "movq %[pat], %%rbx\n\t"
      "leaq 1f(%%rip), %[at]\n\t"
      "1: movb $1, (%[p])\n\t"
      "movq %%xmm0, %[x]\n\t"
      "movq %%rbx, %[b]\n\t"
      : [x] "=r"(xmm_after), [b] "=&r"(rbx_after), [at] "=&r"(at)
      : [pat] "r"(pattern), [p] "r"(pages + i * PAGE + 8)
      : "xmm0", "rbx", "memory");
  if (xmm_after != pattern) lost_xmm++;
  if (rbx_after != pattern) lost_rbx++;
  *rip = at;
}

static struct dune_stats stats(void) {
  struct dune_stats s = {0};
  dune_get_stats(&s);
  return s;
}

static int gate_expected(void) {
  const char *g = getenv("DUNE_EXCEPTION_GATE");
  if (g && strcmp(g, "0") == 0) return 0;
  if (g && strcmp(g, "1") == 0) return 1;
  enum dune_flavour f = dune_get_flavour();
  return f == DUNE_FLAVOUR_VMX || f == DUNE_FLAVOUR_SVM || f == DUNE_FLAVOUR_MODULE;
}

/* Faults while a timer signal keeps coming: a signal that stops the guest in
 * the gate (in its assembly or its dispatcher, in ring 0) must find the
 * program's registers, and the fault must still reach the handler once. */
static volatile sig_atomic_t ticks;
static void on_tick(int sig) {
  (void)sig;
  ++ticks;
  /* Vector state of its own, as any handler may have. */
  __asm__ volatile("pcmpeqd %%xmm0, %%xmm0" ::: "xmm0");
}
static void faults_under_signals(long rounds) {
  dune_test_handle(SIGALRM, on_tick, SA_RESTART);
  long period = dune_test_signal_period_usec(1000);
  struct itimerval it = {{period / 1000000, period % 1000000}, {period / 1000000, period % 1000000}};
  setitimer(ITIMER_REAL, &it, NULL);
  long before = faults, i = 0;
  uint64_t rip = 0;
  for (; i < rounds || ticks < 3; ++i) {
    lower(2);
    store_with_state(2, &rip);
    if (i > 100 * rounds) break; /* no signals at all: reported below */
  }
  struct itimerval off = {{0, 0}, {0, 0}};
  setitimer(ITIMER_REAL, &off, NULL);
  printf("exception_gate: %ld faults under a timer signal: %ld signals\n", i, (long)ticks);
  check(ticks >= 3 && faults - before == i, "under a timer signal: every write reaches the handler once");
  check(lost_xmm == 0 && lost_rbx == 0, "and the registers stay the program's");
}

/* No access: dune_vm_mprotect(PERM_NONE) and dune_vm_unmap on pgroot leave a
 * leaf that is not present but keeps its page's address; an access faults to
 * the handler (not present, user), which gives the access back. Where the gate
 * is, none of it leaves the VM: the leaf is the program's record (pte.h). */
static volatile long none_faults;
static volatile uintptr_t none_addr;
static volatile uint64_t none_fec;
static void on_none(uintptr_t addr, uint64_t fec, struct dune_tf *tf) {
  (void)tf;
  none_addr = addr;
  none_fec = fec;
  none_faults++;
  if (dune_vm_mprotect(pgroot, (void *)(addr & ~(PAGE - 1)), PAGE, PERM_R | PERM_W) != 0) {
    fprintf(stderr, "exception_gate: the handler's dune_vm_mprotect failed\n");
    exit(1);
  }
}

static void test_no_access(void) {
  char *q = mmap(NULL, 2 * PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  check(q != MAP_FAILED, "mmap");
  q[0] = 1;
  q[10] = 9;
  q[PAGE] = 2;
  check(dune_register_pgflt_handler(on_none) == 0, "a handler that gives the access back");
  check(dune_vm_mprotect(pgroot, q, PAGE, PERM_NONE) == 0, "dune_vm_mprotect(PERM_NONE)");
  ptent_t *pte = NULL;
  check(dune_vm_lookup(pgroot, q, CREATE_NONE, &pte) == 0 && !(*pte & PTE_P) && PTE_ADDR(*pte) == dune_va_to_pa(q),
        "a PERM_NONE leaf is not present and keeps its page's address");
  volatile char *v = q;
  char c = v[10];
  check(none_faults == 1 && none_addr == (uintptr_t)(q + 10) && (none_fec & 7) == 4 && c == 9,
        "a read faults to the handler (not present, user) and then reads the page");
  check(dune_vm_unmap(pgroot, q + PAGE, PAGE) == 0, "dune_vm_unmap on pgroot");
  v[PAGE + 5] = 3;
  check(none_faults == 2 && (none_fec & 7) == 6 && v[PAGE] == 2 && v[PAGE + 5] == 3,
        "a write after dune_vm_unmap faults (not present, write, user); the page kept its contents");

  /* A fork child keeps no access. */
  check(dune_vm_mprotect(pgroot, q, PAGE, PERM_NONE) == 0, "no access again");
  long before = none_faults;
  pid_t pid = fork();
  if (pid == 0) _exit(v[0] == 1 && none_faults == before + 1 ? 0 : 1);
  int status = 0;
  check(pid > 0 && waitpid(pid, &status, 0) == pid && WIFEXITED(status) && WEXITSTATUS(status) == 0,
        "a fork child's read faults to the handler too");
  check(none_faults == before, "the child's fault was the child's");
  c = v[0];
  check(c == 1 && none_faults == before + 1, "the parent's read faults once too");

  /* Rounds of {no access, read, handler gives it back}. */
  long n = dune_test_count(100, 10);
  uint64_t fewest = ~0ull;
  int missed = 0;
  for (int round = 0; round < 5; ++round) {
    long f0 = none_faults;
    struct dune_stats s0 = stats();
    for (long k = 0; k < n; ++k) {
      if (dune_vm_mprotect(pgroot, q, PAGE, PERM_NONE) != 0) missed++;
      (void)v[k & 1023];
    }
    struct dune_stats s1 = stats();
    if (none_faults - f0 != n) missed++;
    if (s1.vm_exits - s0.vm_exits < fewest) fewest = s1.vm_exits - s0.vm_exits;
  }
  check(missed == 0, "every round faults once to the handler");
  printf("exception_gate: %ld rounds of PERM_NONE, read, raise: %llu VM exits\n", n, (unsigned long long)fewest);
  if (gate_expected()) check(fewest <= 2, "no VM exit in them through the gate");

  /* Another root (dune_vm_clone): its leaves change without the host too. */
  ptent_t *copy = dune_vm_clone(pgroot);
  check(copy != NULL, "dune_vm_clone(pgroot)");
  struct dune_stats s0 = stats();
  int ok = 1;
  for (int k = 0; k < 10; ++k) {
    ok &= dune_vm_mprotect(copy, q, 2 * PAGE, PERM_R | PERM_U) == 0;
    ok &= dune_vm_mprotect(copy, q, 2 * PAGE, PERM_R | PERM_W | PERM_U) == 0;
  }
  ok &= dune_vm_mprotect(copy, q, PAGE, PERM_R | PERM_U) == 0;
  struct dune_stats s1 = stats();
  ptent_t *cp = NULL;
  check(ok && dune_vm_lookup(copy, q, CREATE_NONE, &cp) == 0 && (*cp & PTE_P) && !(*cp & PTE_W) &&
            PTE_ADDR(*cp) == dune_va_to_pa(q),
        "dune_vm_mprotect on a clone changes the clone's leaf");
  printf("exception_gate: 21 dune_vm_mprotect calls on a clone: %llu VM exits\n",
         (unsigned long long)(s1.vm_exits - s0.vm_exits));
  if (gate_expected()) check(s1.vm_exits - s0.vm_exits <= 2, "without a VM exit through the gate");
  before = none_faults;
  v[7] = 4;
  check(none_faults == before, "pgroot's leaf is its own");
  check(dune_vm_unmap(copy, q, PAGE) == 0 && *cp == 0, "dune_vm_unmap on the clone clears its leaf");
  dune_vm_free(copy);
  check(dune_vm_mprotect(copy, q, PAGE, PERM_R) == -EINVAL, "a freed root is no root any more");
  check(dune_register_pgflt_handler(on_fault) == 0, "the first handler again");
  munmap(q, 2 * PAGE);
}

/* Runs fn with RSP at sp (a stack of the test's own). */
__asm__(".text\n"
        ".globl eg_run_on_stack\n"
        "eg_run_on_stack:\n"
        "\tpush %rbp\n"
        "\tmov %rsp, %rbp\n"
        "\tmov %rsi, %rsp\n"
        "\tcall *%rdi\n"
        "\tmov %rbp, %rsp\n"
        "\tpop %rbp\n"
        "\tret\n");
void eg_run_on_stack(void (*fn)(void), char *sp);
static void store_page2(void) { pages[2 * PAGE + 40] = 5; }

static void *writer(void *arg) {
  (void)arg;
  long n = dune_test_count(50, 5);
  for (long k = 0; k < n; ++k) {
    protect(3);
    pages[3 * PAGE + 16] = (char)k;
  }
  return NULL;
}

int main(void) {
  int r = dune_init_and_enter();
  if (r) dune_test_skip_or_fail("exception_gate", r);
  pages = mmap(NULL, NPAGES * PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  check(pages != MAP_FAILED, "mmap");
  memset(pages, 0, NPAGES * PAGE);
  check(dune_register_pgflt_handler(on_fault) == 0, "dune_register_pgflt_handler");
  for (int i = 0; i < NPAGES; ++i) {
    protect(i);
    check(dune_vm_lookup(pgroot, pages + i * PAGE, CREATE_NONE, &ptes[i]) == 0, "dune_vm_lookup");
  }

  check(protect_failures == 0, "dune_vm_mprotect(PERM_R) succeeds");

  /* 1. What the handler sees. */
  uint64_t rip = 0;
  store_with_state(0, &rip);
  check(faults == 1, "one fault, one handler call");
  check(seen_addr == (uintptr_t)(pages + 8), "the handler sees the faulting address");
  check(seen_fec == 7, "error code: present, write, user");
  check(seen_rip == rip, "tf->rip is the faulting store");
  check(seen_vector == 14, "tf->vector is 14");
  check(lost_xmm == 0 && lost_rbx == 0, "xmm0 and rbx are the program's after the handler");
  check(pages[8] == 1, "the store completes after the handler");

  /* 2. A fault inside the handler. */
  lower(0);
  nest = 1;
  pages[16] = 2;
  check(nested_faults == 1 && faults == 3, "a fault inside a handler is handled, then the outer one");
  check(pages[PAGE] == 7 && pages[16] == 2, "both stores land");

  /* 3. Many faults: none leaves the VM where the gate is. */
  long n = dune_test_count(200, 20);
  uint64_t fewest = ~0ull;
  int missed = 0, uncounted = 0;
  for (int round = 0; round < 5; ++round) {
    long before_faults = faults;
    struct dune_stats s0 = stats();
    for (long k = 0; k < n; ++k) {
      lower(2);
      store_with_state(2, &rip);
    }
    struct dune_stats s1 = stats();
    if (faults - before_faults != n) missed++;
    if (s1.page_faults - s0.page_faults < (uint64_t)n) uncounted++;
    uint64_t exits = s1.vm_exits - s0.vm_exits;
    if (exits < fewest) fewest = exits;
  }
  check(missed == 0, "every lowered write reaches the handler");
  check(uncounted == 0, "dune_get_stats counts them as page faults");
  check(lost_xmm == 0 && lost_rbx == 0, "and the registers stay the program's");
  printf("exception_gate: %ld faults: %llu VM exits (fewest of 5 rounds; gate %s)\n", n,
         (unsigned long long)fewest, gate_expected() ? "on" : "off");
  /* One exit is dune_get_stats' own; a timer signal may cost a few. */
  if (gate_expected()) check(fewest <= 2, "no VM exit per fault through the gate");
  else check(fewest >= (uint64_t)n, "each fault exits to the host without the gate");

  faults_under_signals(dune_test_count(2000, 300));

  /* 4. #UD to an interrupt handler. */
  check(dune_register_intr_handler(6, on_ud) == 0, "dune_register_intr_handler(6)");
  uint64_t ud_at = 0;
  __asm__ volatile("leaq 1f(%%rip), %0\n\t1: ud2" : "=r"(ud_at));
  check(ud_seen == 1 && ud_rip == ud_at, "#UD reaches its handler with its rip, and execution goes on");

  /* 4b. No access, and another root. */
  test_no_access();

  /* 4c. A handler's edits to *tf. */
  test_edited_return();

  /* 5. Another thread's faults. */
  pthread_t t;
  check(pthread_create(&t, NULL, writer, NULL) == 0, "pthread_create");
  pthread_join(t, NULL);
  check(thread_faults == dune_test_count(50, 5), "another thread's faults reach the handler");
  check(protect_failures == 0, "its dune_vm_mprotect calls succeed");

  /* 6. A fork child keeps the protection and the handler. */
  protect(0);
  long before = faults;
  pid_t pid = fork();
  if (pid == 0) {
    pages[24] = 3;
    _exit(faults == before + 1 && pages[24] == 3 ? 0 : 1);
  }
  int status = 0;
  check(pid > 0 && waitpid(pid, &status, 0) == pid, "fork and wait");
  check(WIFEXITED(status) && WEXITSTATUS(status) == 0, "the child's write faults to the handler, then lands");
  check(faults == before, "the parent's page is still protected");
  pages[24] = 4;
  check(faults == before + 1, "and faults here too");

  /* 7. No room for the handler's frame: a PROT_NONE page under a stack of one
   * page. The gate's write there faults in ring 0, which hands the fault to
   * the host; the host finds no room either: SIGSEGV, as without the gate. */
  lower(2);
  pid = fork();
  if (pid == 0) {
    char *tight = mmap(NULL, 2 * PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (tight == MAP_FAILED || mprotect(tight, PAGE, PROT_NONE)) _exit(3);
    tight[PAGE] = 1;
    eg_run_on_stack(store_page2, tight + 2 * PAGE - 64);
    _exit(4); /* the handler ran: there was room after all */
  }
  status = 0;
  check(pid > 0 && waitpid(pid, &status, 0) == pid, "fork and wait");
  check(WIFSIGNALED(status) && WTERMSIG(status) == SIGSEGV,
        "a handler frame that does not fit: SIGSEGV, as Linux gives a signal frame that does not fit");

  /* 8. The frame's page was never touched: not in the guest's tables yet. The
   * gate's write there faults in ring 0; the host maps the page and delivers
   * the fault to the handler, once, as without the gate. */
  char *fresh = mmap(NULL, 2 * PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  check(fresh != MAP_FAILED, "mmap a stack of two pages");
  fresh[PAGE] = 1;
  lower(2);
  before = faults;
  pages[2 * PAGE + 40] = 0;
  eg_run_on_stack(store_page2, fresh + PAGE + 128);
  check(faults == before + 1 && pages[2 * PAGE + 40] == 5,
        "a handler frame on a page not touched yet: the handler runs once, the store lands");

  printf("exception_gate: ok\n");
  return 0;
}
