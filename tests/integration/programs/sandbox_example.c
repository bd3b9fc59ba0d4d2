/* sandbox_example: in the style of the original Dune's apps/sandbox, a
 * launcher that runs untrusted code in ring 3 on a page table holding only the
 * code's own pages, with a syscall allow-list: write to stdout/stderr from the
 * sandbox's memory, getpid, brk-free arithmetic, exit. Anything else kills the
 * untrusted code, and the launcher reports which call it was.
 *
 *   sandbox_example            runs a well-behaved function, then a rogue one
 *   sandbox_example rogue-only runs the rogue one */
#include <dune/dune.h>
#include <dune/trace.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>

#include "box_support.h"
#include "test_support.h"

/* ---- the untrusted code: only what the box maps ---- */
BOX_DATA static char box_mem[4096] = "untrusted: computing 10! = ";

BOX_CODE static long box_itoa(char *out, long v) {
  char tmp[24];
  long n = 0, len = 0;
  do {
    tmp[n++] = (char)('0' + v % 10);
    v /= 10;
  } while (v);
  while (n) out[len++] = tmp[--n];
  out[len++] = '\n';
  return len;
}

BOX_CODE static void well_behaved(uint64_t n, uint64_t unused) {
  (void)unused;
  long f = 1;
  for (uint64_t i = 2; i <= n; ++i) f *= (long)i;
  long prefix = 27;
  long len = prefix + box_itoa(box_mem + prefix, f);
  box_syscall3(SYS_write, 1, (long)box_mem, len);
  box_syscall3(SYS_exit_group, 0, 0, 0);
}

BOX_CODE static void rogue(uint64_t a0, uint64_t a1) {
  (void)a0;
  (void)a1;
  box_syscall3(SYS_write, 1, (long)"x", 1); /* outside its memory: refused */
  box_syscall3(SYS_socket, 2, 1, 0);        /* not on the list: killed */
  box_syscall3(SYS_exit_group, 0, 0, 0);
}

/* ---- the launcher ---- */
static const long allowed[] = {SYS_write, SYS_getpid, SYS_exit, SYS_exit_group};
static volatile long killed_by = -1;
static volatile long refused_writes;

static int in_box_memory(uint64_t p, uint64_t len) {
  return p >= (uint64_t)box_mem && len <= sizeof box_mem && p + len <= (uint64_t)box_mem + sizeof box_mem;
}

static void allow_list(struct dune_tf *tf) {
  long nr = (long)tf->rax;
  int ok = 0;
  for (size_t i = 0; i < sizeof allowed / sizeof *allowed; ++i) ok |= allowed[i] == nr;
  if (!ok) {
    killed_by = nr;
    dune_ret_from_user(128 + 9); /* as if killed by SIGKILL */
  }
  if (nr == SYS_exit || nr == SYS_exit_group) dune_ret_from_user((int)tf->rdi & 0xff);
  if (nr == SYS_write && ((tf->rdi != 1 && tf->rdi != 2) || !in_box_memory(tf->rsi, tf->rdx))) {
    refused_writes++;
    tf->rax = (uint64_t)-EFAULT;
    return;
  }
  dune_passthrough_syscall(tf);
}

static void box_fault(uintptr_t addr, uint64_t fec, struct dune_tf *tf) {
  fprintf(stderr, "sandbox: untrusted code faulted at %#lx (rip %#lx, error %#lx): killed\n", (unsigned long)addr,
          (unsigned long)tf->rip, (unsigned long)fec);
  dune_ret_from_user(128 + 11);
}

static int run(void (*fn)(uint64_t, uint64_t), uint64_t arg, const char *name) {
  uintptr_t top = 0;
  ptent_t *root = box_make_root(64 * 1024, &top);
  if (!root || dune_set_user_root(root)) return -1;
  killed_by = -1;
  refused_writes = 0;
  struct dune_tf tf = box_call((void *)fn, top, arg, 0);
  fflush(stdout);
  int status = dune_jump_to_user(&tf);
  dune_set_user_root(NULL);
  dune_vm_free(root);
  if (killed_by >= 0)
    printf("sandbox: %s called %s (%ld), which is not allowed: killed (status %d, %ld writes refused)\n", name,
           dune_syscall_name(killed_by) ? dune_syscall_name(killed_by) : "?", killed_by, status, refused_writes);
  else
    printf("sandbox: %s exited with status %d\n", name, status);
  return status;
}

int main(int argc, char **argv) {
  int r = dune_init_and_enter();
  if (r) dune_test_skip_or_fail("sandbox_example", r);
  dune_register_syscall_handler(allow_list);
  dune_register_pgflt_handler(box_fault);
  int rogue_only = argc > 1 && strcmp(argv[1], "rogue-only") == 0;
  int good = rogue_only ? 0 : run(well_behaved, 10, "well_behaved");
  int bad = run(rogue, 0, "rogue");
  int ok = good == 0 && bad == 128 + 9 && killed_by == SYS_socket && refused_writes == 1;
  printf("sandbox_example: %s\n", ok ? "ok" : "FAILED");
  return ok ? 0 : 1;
}
