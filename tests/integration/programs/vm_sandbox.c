/* vm_sandbox: code run through dune_jump_to_user on a page table of its own:
 * an allowed write(1, ...) goes through, a forbidden unlink is stopped and
 * reported, an emulated syscall returns the launcher's answer, and a read of
 * the launcher's memory (absent from the sandbox's table) is a fault the
 * launcher sees. */
#include <dune/dune.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "box_support.h"
#include "test_support.h"

static int failures;
static void check(int ok, const char *what) {
  printf("%s: %s\n", ok ? "ok" : "FAIL", what);
  fflush(stdout);
  if (!ok) ++failures;
}

/* The sandbox's world. */
BOX_DATA static char box_data[4096] = "hello from the sandbox\n";
#define BOX_PATH_OFFSET 1024

BOX_CODE static void box_write(uint64_t len, uint64_t unused) {
  (void)unused;
  long r = box_syscall3(SYS_write, 1, (long)box_data, (long)len);
  box_syscall3(SYS_exit, r, 0, 0);
}

BOX_CODE static void box_unlink(uint64_t a0, uint64_t a1) {
  (void)a0;
  (void)a1;
  box_syscall3(SYS_unlink, (long)(box_data + BOX_PATH_OFFSET), 0, 0);
  box_syscall3(SYS_exit, 0, 0, 0);
}

BOX_CODE static void box_getpid(uint64_t a0, uint64_t a1) {
  (void)a0;
  (void)a1;
  box_syscall3(SYS_exit, box_syscall3(SYS_getpid, 0, 0, 0), 0, 0);
}

BOX_CODE static void box_peek(uint64_t addr, uint64_t a1) {
  (void)a1;
  long v = *(volatile long *)addr;
  box_syscall3(SYS_exit, v, 0, 0);
}

BOX_CODE static void box_hypercall(uint64_t a0, uint64_t a1) {
  (void)a0;
  (void)a1;
  /* The library's hypercall port (runtime/hypercall.S): only launchers may. */
  __asm__ volatile("mov $3, %%eax\n\toutb %%al, $0x42" ::: "rax", "memory");
  box_syscall3(SYS_exit, 5, 0, 0);
}

/* The launcher. */
static long secret = 0x5ec7e7;
static volatile long last_nr = -1;
static volatile uintptr_t fault_addr;
static volatile uint64_t fault_fec;

static void on_syscall(struct dune_tf *tf) {
  last_nr = (long)tf->rax;
  switch (tf->rax) {
    case SYS_write:
      /* Only stdout, and only the sandbox's own memory. */
      if (tf->rdi == 1 && tf->rsi >= (uint64_t)box_data && tf->rsi + tf->rdx <= (uint64_t)box_data + sizeof box_data)
        dune_passthrough_syscall(tf);
      else
        tf->rax = (uint64_t)-EPERM;
      return;
    case SYS_getpid:
      tf->rax = 4242; /* emulated */
      return;
    case SYS_exit:
    case SYS_exit_group:
      dune_ret_from_user((int)tf->rdi);
    default:
      dune_ret_from_user(1000 + (int)tf->rax); /* forbidden: killed */
  }
}

static void on_fault(uintptr_t addr, uint64_t fec, struct dune_tf *tf) {
  (void)tf;
  fault_addr = addr;
  fault_fec = fec;
  dune_ret_from_user(-2);
}

int main(void) {
  int r = dune_init_and_enter();
  if (r) dune_test_skip_or_fail("vm_sandbox", r);
  uintptr_t top = 0;
  ptent_t *box = box_make_root(64 * 1024, &top);
  check(box != NULL, "a sandbox root with its code, data and stack");
  check(dune_set_user_root(box) == 0, "dune_set_user_root");
  check(dune_register_syscall_handler(on_syscall) == 0, "register the syscall handler");
  check(dune_register_pgflt_handler(on_fault) == 0, "register the page-fault handler");

  size_t len = strlen(box_data);
  struct dune_tf tf = box_call(box_write, top, len, 0);
  r = dune_jump_to_user(&tf);
  check(r == (int)len && last_nr == SYS_exit, "an allowed write(1, ...) goes through and returns its count");

  char path[64];
  snprintf(path, sizeof path, "/tmp/vm_sandbox.%d", getpid());
  int fd = open(path, O_CREAT | O_WRONLY | O_CLOEXEC, 0600);
  close(fd);
  strcpy(box_data + BOX_PATH_OFFSET, path);
  tf = box_call(box_unlink, top, 0, 0);
  r = dune_jump_to_user(&tf);
  check(r == 1000 + SYS_unlink && access(path, F_OK) == 0,
        "a forbidden unlink is stopped and reported (the file is still there)");
  unlink(path);

  tf = box_call(box_getpid, top, 0, 0);
  r = dune_jump_to_user(&tf);
  check(r == 4242, "an emulated getpid returns the launcher's answer");

  tf = box_call(box_peek, top, (uint64_t)&secret, 0);
  r = dune_jump_to_user(&tf);
  check(r == -2 && fault_addr == (uintptr_t)&secret && (fault_fec & FEC_U),
        "a read of launcher memory outside the sandbox's table faults to the launcher's handler");
  check(secret == 0x5ec7e7, "the launcher runs on with its memory intact");

  tf = box_call(box_peek, top, (uint64_t)box_data, 0);
  r = dune_jump_to_user(&tf);
  check(r == (int)*(long *)box_data, "a read of the sandbox's own memory works");

  tf = box_call(box_hypercall, top, 0, 0);
  r = dune_jump_to_user(&tf);
  /* Every flavour lets ring 3 reach the port (the TSS I/O bitmap allows it:
   * launchers call the library that way), so it is always the library that
   * refuses: -EPERM, never a #GP (-EFAULT), and the launcher resumes after its
   * own call (on VT-x the exit stops at the `out`: not made a second time). */
  if (r != -EPERM) printf("dune_jump_to_user returned %d\n", r);
  check(r == -EPERM, "a sandbox using the library's hypercall port is stopped with -EPERM");
  check(dune_jump_to_user(NULL) == -EINVAL, "dune_jump_to_user(NULL): -EINVAL");
  check(dune_set_user_root(NULL) == 0, "back to pgroot as the user root");
  dune_vm_free(box);
  printf("vm_sandbox: %s\n", failures ? "FAILED" : "all passed");
  return failures ? 1 : 0;
}
