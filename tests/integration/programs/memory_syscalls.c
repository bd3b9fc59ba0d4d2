/* memory_syscalls: the memory syscalls not covered elsewhere keep the guest's
 * view right: shmat/shmdt, madvise (DONTNEED, guard pages), mremap shrink and
 * fixed moves, arch_prctl(ARCH_SET_FS/GET_FS). A fault after each change shows
 * the guest page tables followed the host. */
#define _GNU_SOURCE
#include <asm/prctl.h>
#include <dune/dune.h>
#include <errno.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/ipc.h>
#include <sys/mman.h>
#include <sys/shm.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "test_support.h"

#ifndef MADV_GUARD_INSTALL
#define MADV_GUARD_INSTALL 102
#define MADV_GUARD_REMOVE 103
#endif

static int failures;
static void check(int ok, const char *what) {
  printf("memory_syscalls: %-58s %s\n", what, ok ? "ok" : "FAIL");
  if (!ok) ++failures;
}

/* A probe: touch an address and learn whether it faulted, through the Dune
 * page-fault handler, which skips the faulting instruction. */
static volatile int faulted;
static volatile uintptr_t fault_addr;
extern char probe_insn[], probe_after[];
static void pgflt(uintptr_t addr, uint64_t fec, struct dune_tf *tf) {
  (void)fec;
  faulted = 1;
  fault_addr = addr;
  tf->rip = (uintptr_t)probe_after;
}
static int faults_on_read(const void *p) {
  faulted = 0;
  __asm__ volatile(".globl probe_insn\nprobe_insn: movb (%0), %%al\n.globl probe_after\nprobe_after:"
                   : : "r"(p) : "rax", "memory");
  return faulted && fault_addr == (uintptr_t)p;
}

int main(void) {
  int r = dune_init_and_enter();
  if (r) dune_test_skip_or_fail("memory_syscalls", r);
  dune_register_pgflt_handler(pgflt);

  /* System V shared memory. */
  int id = shmget(IPC_PRIVATE, 3 * 4096, IPC_CREAT | 0600);
  char *shm = shmat(id, NULL, 0);
  check(shm != (void *)-1, "shmat");
  memset(shm, 7, 3 * 4096);
  char *shm2 = shmat(id, NULL, SHM_RDONLY);
  check(shm2 != (void *)-1 && shm2[3 * 4096 - 1] == 7, "a second, read-only attachment sees the data");
  check(shmdt(shm) == 0 && faults_on_read(shm + 4096), "shmdt: the detached pages fault");
  check(!faults_on_read(shm2 + 4096), "the other attachment stays");
  shmdt(shm2);
  shmctl(id, IPC_RMID, NULL);

  /* madvise(MADV_DONTNEED): the next read sees zero pages. */
  char *p = mmap(NULL, 4 * 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  memset(p, 9, 4 * 4096);
  check(madvise(p, 4 * 4096, MADV_DONTNEED) == 0 && p[0] == 0 && p[4 * 4096 - 1] == 0,
        "MADV_DONTNEED gives zero pages back");

  /* Guard pages (Linux 6.13 and later): fault for the guest as natively. */
  if (madvise(p + 4096, 4096, MADV_GUARD_INSTALL) == 0) {
    check(faults_on_read(p + 4096) && !faults_on_read(p), "MADV_GUARD_INSTALL: the guard page faults");
    check(madvise(p + 4096, 4096, MADV_GUARD_REMOVE) == 0 && !faults_on_read(p + 4096),
          "MADV_GUARD_REMOVE: it is readable again");
  } else {
    printf("memory_syscalls: guard pages not supported by this kernel (%s)\n", strerror(errno));
  }

  /* mremap: shrink in place, then a fixed move. */
  char *q = mremap(p, 4 * 4096, 2 * 4096, 0);
  check(q == p && faults_on_read(p + 3 * 4096) && !faults_on_read(p + 4096), "mremap shrink");
  char *dst = mmap(NULL, 8 * 4096, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  p[0] = 42;
  q = mremap(p, 2 * 4096, 2 * 4096, MREMAP_MAYMOVE | MREMAP_FIXED, dst + 4096);
  check(q == dst + 4096 && q[0] == 42 && faults_on_read(p), "mremap to a fixed address moves the pages");
  check(faults_on_read(dst), "the rest of the destination reservation still faults");

  /* arch_prctl: FS base set in the vCPU, read back, TLS works after restore. */
  static uint64_t block[4] = {0, 0x1122334455667788ull, 0, 0};
  block[0] = (uint64_t)block; /* a TCB points to itself at %fs:0 */
  uint64_t old_fs, fs;
  syscall(SYS_arch_prctl, ARCH_GET_FS, &old_fs);
  syscall(SYS_arch_prctl, ARCH_SET_FS, block);
  uint64_t via_fs;
  __asm__ volatile("mov %%fs:8, %0" : "=r"(via_fs));
  syscall(SYS_arch_prctl, ARCH_GET_FS, &fs);
  syscall(SYS_arch_prctl, ARCH_SET_FS, old_fs);
  check(fs == (uint64_t)block && via_fs == 0x1122334455667788ull, "ARCH_SET_FS / ARCH_GET_FS");
  errno = 0;
  check(syscall(SYS_arch_prctl, ARCH_SET_FS, 1ull << 47) == -1 && errno == EPERM,
        "a non-canonical FS base is refused with EPERM");
  printf(failures ? "memory_syscalls: FAIL\n" : "memory_syscalls: ok\n");
  return failures ? 1 : 0;
}
