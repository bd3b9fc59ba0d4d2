/* module_abuse: bad input to /dev/dune (kernel/dune.ko). Each misuse must be refused the way the
 * ABI says (kernel/include/uapi/dune_abi.h), and none may hurt the kernel (the hardware test bed
 * scans the kernel log afterwards). One line per check; exit 0 only if every check passed.
 *
 * It talks to the module directly, not through libdune, and is written against the ABI header:
 * it needs the module loaded and a CPU with VT-x and EPT (hwbed.module runs it in the Bochs bed,
 * statically linked; on a real host: build/tests/hwbed/module_abuse). A missing
 * /dev/dune is a failure, not a skip. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "dune_abi.h"

#define PAGE 4096UL
#define KERNEL_PTR ((void *)0xffff800000000000UL)
#define USER_END 0x7ffffffff000UL /* x86-64 Linux, 4-level paging: the last user page ends here */

#define MSR_FS_BASE 0xc0000100u
#define MSR_LSTAR 0xc0000082u
#define MSR_SYSENTER_EIP 0x176u /* a real MSR the ABI does not list */
#define MSR_BOGUS 0x12345678u

#define CR0_PE (1ull << 0)
#define CR0_PG (1ull << 31)
#define CR0_LONG_MODE 0x80050033ull /* PG AM WP NE ET MP PE */
#define CR4_PAE (1ull << 5)
#define EFER_LME (1ull << 8)
#define EFER_LMA (1ull << 10)

/* The small guest: 64 KiB at guest-physical 0, page tables at 0x1000-0x3fff (one 2 MiB page at
 * 0), code at 0x8000: mov $0x42,%al; out %al,$0x10; hlt; jmp . */
#define GUEST_SIZE 0x10000UL
#define GUEST_CR3 0x1000UL
#define GUEST_CODE 0x8000UL
#define GUEST_PORT 0x10
#define GUEST_BYTE 0x42
static const unsigned char guest_code[] = {0xb0, GUEST_BYTE, 0xe6, GUEST_PORT, 0xf4, 0xeb, 0xfe};
/* At 0x8100, for the syscall fast path: out %al,$0x12 (RAX set by the host); hlt */
#define GUEST_FAST 0x8100UL
#define GUEST_FAST_PORT 0x12
static const unsigned char guest_fast[] = {0xe6, GUEST_FAST_PORT, 0xf4};

/* A DUNE_RUN that has not returned after this long (guest clock) is stuck: the alarm ends it. */
#define RUN_GUARD_SECONDS 20

/* Counted in shared memory, so that the forked children's checks count too. */
static struct tally {
  int passed, failed;
} *tally;
static const char *who = ""; /* "child: " in a forked child */
static size_t run_size = PAGE; /* dune_info.run_size */

static void report(int ok, const char *what, const char *fmt, ...) {
  char detail[256] = "";
  if (fmt) {
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(detail, sizeof detail, fmt, ap);
    va_end(ap);
  }
  if (ok) {
    __atomic_add_fetch(&tally->passed, 1, __ATOMIC_SEQ_CST);
    printf("module_abuse: ok   %s%s%s%s%s\n", who, what, *detail ? " (" : "", detail, *detail ? ")" : "");
  } else {
    __atomic_add_fetch(&tally->failed, 1, __ATOMIC_SEQ_CST);
    printf("module_abuse: FAIL %s%s: %s\n", who, what, detail);
  }
}

/* One ioctl's outcome. */
struct res {
  long ret;
  int err;
};

static struct res call(int fd, unsigned long req, void *arg) {
  struct res r;
  errno = 0;
  r.ret = ioctl(fd, req, arg);
  r.err = r.ret < 0 ? errno : 0;
  return r;
}

static const char *ename(int e) {
  const char *n = strerrorname_np(e);
  return n ? n : "an unknown errno";
}

/* "returned N" or "failed with EXXX", in one of a few rotating buffers. */
static const char *show(struct res r) {
  static char bufs[4][64];
  static int next;
  char *b = bufs[next++ % 4];
  if (r.ret < 0)
    snprintf(b, sizeof bufs[0], "failed with %s", ename(r.err));
  else
    snprintf(b, sizeof bufs[0], "returned %ld", r.ret);
  return b;
}

static void expect_err(struct res r, const char *what, int e1, int e2) {
  int ok = r.ret == -1 && (r.err == e1 || (e2 && r.err == e2));
  if (ok)
    report(1, what, "%s", ename(r.err));
  else if (e2)
    report(0, what, "%s, want %s or %s", show(r), ename(e1), ename(e2));
  else
    report(0, what, "%s, want %s", show(r), ename(e1));
}

static void expect_ret(struct res r, const char *what, long want) {
  if (r.ret == want)
    report(1, what, NULL);
  else
    report(0, what, "%s, want %ld", show(r), want);
}

static void *map_anon(size_t size, int prot) {
  void *p = mmap(NULL, size, prot, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (p == MAP_FAILED) {
    perror("module_abuse: mmap");
    exit(1);
  }
  return p;
}

/* ---- DUNE_RUN with a guard ---- */
static volatile sig_atomic_t alarm_fired;
static void on_alarm(int sig) {
  (void)sig;
  alarm_fired = 1;
}

static struct res run_vcpu(int vcpu) {
  alarm_fired = 0;
  alarm(RUN_GUARD_SECONDS);
  struct res r = call(vcpu, DUNE_RUN, NULL);
  alarm(0);
  return r;
}

static const char *exit_name(uint32_t reason) {
  static char b[32];
  switch (reason) {
    case KVM_EXIT_IO: return "KVM_EXIT_IO";
    case KVM_EXIT_HLT: return "KVM_EXIT_HLT";
    case KVM_EXIT_SHUTDOWN: return "KVM_EXIT_SHUTDOWN";
    case KVM_EXIT_FAIL_ENTRY: return "KVM_EXIT_FAIL_ENTRY";
    case KVM_EXIT_INTR: return "KVM_EXIT_INTR";
    case KVM_EXIT_INTERNAL_ERROR: return "KVM_EXIT_INTERNAL_ERROR";
    case DUNE_RUN_EXIT_MEMORY_FAULT: return "DUNE_RUN_EXIT_MEMORY_FAULT";
  }
  snprintf(b, sizeof b, "exit reason %u", reason);
  return b;
}

/* A run of a vCPU in a state it cannot run: it must come back with an error or a failure exit,
 * not hang and not hurt the kernel. */
static void expect_refused_run(int vcpu, struct kvm_run *run, const char *what) {
  if (run) run->exit_reason = 0xffff;
  struct res r = run_vcpu(vcpu);
  if (r.ret < 0 && r.err == EINTR)
    report(0, what, "%s%s", show(r), alarm_fired ? ": still running after the guard's alarm" : " without a signal");
  else if (r.ret < 0)
    report(1, what, "%s%s%s", show(r), run ? ", " : "", run ? exit_name(run->exit_reason) : "");
  else if (!run)
    report(0, what, "%s, and no run page to tell why", show(r));
  else if (run->exit_reason == KVM_EXIT_FAIL_ENTRY || run->exit_reason == KVM_EXIT_INTERNAL_ERROR ||
           run->exit_reason == KVM_EXIT_SHUTDOWN)
    report(1, what, "%s", exit_name(run->exit_reason));
  else
    report(0, what, "%s with %s, want an error, KVM_EXIT_FAIL_ENTRY, KVM_EXIT_INTERNAL_ERROR or KVM_EXIT_SHUTDOWN",
           show(r), exit_name(run->exit_reason));
}

/* ---- the small guest ---- */
static void build_guest(unsigned char *mem) {
  uint64_t *pml4 = (uint64_t *)(mem + 0x1000), *pdpt = (uint64_t *)(mem + 0x2000), *pd = (uint64_t *)(mem + 0x3000);
  pml4[0] = 0x2000 | 3;                          /* present, writable */
  pdpt[0] = 0x3000 | 3;
  pd[0] = 0x80 | 3;                              /* a 2 MiB page at 0 */
  memcpy(mem + GUEST_CODE, guest_code, sizeof guest_code);
  memcpy(mem + GUEST_FAST, guest_fast, sizeof guest_fast);
}

/* Flat 64-bit ring-0 segments, a 64-bit TSS, paging on: what the CPU accepts. */
static void long_mode_sregs(struct kvm_sregs *s) {
  struct kvm_segment code = {.limit = 0xffffffff, .selector = 0x08, .type = 0xb, .present = 1, .s = 1, .l = 1, .g = 1};
  struct kvm_segment data = {.limit = 0xffffffff, .selector = 0x10, .type = 0x3, .present = 1, .s = 1, .db = 1, .g = 1};
  struct kvm_segment tss = {.limit = 0x67, .selector = 0x18, .type = 0xb, .present = 1};
  struct kvm_segment ldt = {.selector = 0, .type = 0x2, .unusable = 1};
  s->cs = code;
  s->ds = s->es = s->fs = s->gs = s->ss = data;
  s->tr = tss;
  s->ldt = ldt;
  s->gdt.base = 0;
  s->gdt.limit = 0x1f;
  s->idt.base = 0;
  s->idt.limit = 0;
  s->cr0 = CR0_LONG_MODE;
  s->cr3 = GUEST_CR3;
  s->cr4 = CR4_PAE;
  s->efer = EFER_LME | EFER_LMA;
}

static struct res set_region(int vm, uint32_t slot, uint32_t flags, uint64_t gpa, uint64_t size, uint64_t hva) {
  struct kvm_userspace_memory_region r = {
      .slot = slot, .flags = flags, .guest_phys_addr = gpa, .memory_size = size, .userspace_addr = hva};
  return call(vm, DUNE_SET_REGION, &r);
}

/* One pass of the guest: out (KVM_EXIT_IO), then hlt (KVM_EXIT_HLT). NULL, or what went wrong. */
static const char *guest_round(int vcpu, struct kvm_run *run) {
  static char why[160];
  struct kvm_regs regs = {.rip = GUEST_CODE, .rflags = 0x2, .rsp = GUEST_SIZE - 0x100};
  struct res r = call(vcpu, DUNE_SET_REGS, &regs);
  if (r.ret) return snprintf(why, sizeof why, "DUNE_SET_REGS %s", show(r)), why;
  r = run_vcpu(vcpu);
  if (r.ret) return snprintf(why, sizeof why, "first DUNE_RUN %s (%s)", show(r), exit_name(run->exit_reason)), why;
  if (run->exit_reason != KVM_EXIT_IO)
    return snprintf(why, sizeof why, "first exit %s, want KVM_EXIT_IO", exit_name(run->exit_reason)), why;
  if (run->io.direction != KVM_EXIT_IO_OUT || run->io.port != GUEST_PORT || run->io.size != 1 || run->io.count != 1)
    return snprintf(why, sizeof why, "io exit dir %u port %#x size %u count %u, want out %#x size 1 count 1",
                    run->io.direction, run->io.port, run->io.size, run->io.count, GUEST_PORT),
           why;
  if (run->io.data_offset >= run_size || ((unsigned char *)run)[run->io.data_offset] != GUEST_BYTE)
    return snprintf(why, sizeof why, "io data at offset %llu is not %#x", (unsigned long long)run->io.data_offset,
                    GUEST_BYTE),
           why;
  r = run_vcpu(vcpu);
  if (r.ret) return snprintf(why, sizeof why, "second DUNE_RUN %s (%s)", show(r), exit_name(run->exit_reason)), why;
  if (run->exit_reason != KVM_EXIT_HLT)
    return snprintf(why, sizeof why, "second exit %s, want KVM_EXIT_HLT", exit_name(run->exit_reason)), why;
  r = call(vcpu, DUNE_GET_REGS, &regs);
  if (r.ret) return snprintf(why, sizeof why, "DUNE_GET_REGS %s", show(r)), why;
  if (regs.rip != GUEST_CODE + 5)
    return snprintf(why, sizeof why, "rip %#llx after hlt, want %#lx", (unsigned long long)regs.rip, GUEST_CODE + 5),
           why;
  return NULL;
}

/* A VM with the small guest in slot 0 and one vCPU ready to run it. NULL, or what went wrong. */
static const char *make_guest(int vm, unsigned char *mem, int *vcpu_out, struct kvm_run **run_out) {
  static char why[160];
  build_guest(mem);
  struct res r = set_region(vm, 0, 0, 0, GUEST_SIZE, (uintptr_t)mem);
  if (r.ret) return snprintf(why, sizeof why, "DUNE_SET_REGION %s", show(r)), why;
  r = call(vm, DUNE_CREATE_VCPU, NULL);
  if (r.ret < 0) return snprintf(why, sizeof why, "DUNE_CREATE_VCPU %s", show(r)), why;
  int vcpu = (int)r.ret;
  struct kvm_sregs s;
  r = call(vcpu, DUNE_GET_SREGS, &s);
  if (r.ret) return snprintf(why, sizeof why, "DUNE_GET_SREGS %s", show(r)), why;
  long_mode_sregs(&s);
  r = call(vcpu, DUNE_SET_SREGS, &s);
  if (r.ret) return snprintf(why, sizeof why, "DUNE_SET_SREGS %s", show(r)), why;
  void *run = mmap(NULL, run_size, PROT_READ | PROT_WRITE, MAP_SHARED, vcpu, 0);
  if (run == MAP_FAILED) return snprintf(why, sizeof why, "mmap of the vCPU: %s", ename(errno)), why;
  *vcpu_out = vcpu;
  *run_out = run;
  return NULL;
}

/* ---- the checks ---- */
static struct dune_info check_identity(int vm) {
  struct res r = call(vm, DUNE_GET_ABI_VERSION, NULL);
  expect_ret(r, "DUNE_GET_ABI_VERSION is DUNE_ABI_VERSION", DUNE_ABI_VERSION);
  struct dune_info info;
  memset(&info, 0, sizeof info);
  r = call(vm, DUNE_GET_INFO, &info);
  expect_ret(r, "DUNE_GET_INFO", 0);
  int sane = r.ret == 0 && info.abi_version == DUNE_ABI_VERSION && info.max_slots > 0 &&
             info.run_size >= sizeof(struct kvm_run) && info.run_size % PAGE == 0 && info.phys_bits >= 32 &&
             info.phys_bits <= 52 && info.xsave_size >= 512 && (info.host_xcr0 == 0 || (info.host_xcr0 & 3) == 3);
  report(sane, "dune_info is plausible", "abi %u, %u slots, run_size %u, xsave_size %u, host_xcr0 %#llx, phys_bits %u",
         info.abi_version, info.max_slots, info.run_size, info.xsave_size, (unsigned long long)info.host_xcr0,
         info.phys_bits);
  /* Go on with what the ABI implies where the module gave nothing usable. */
  if (!info.max_slots) info.max_slots = 32;
  if (info.run_size < PAGE || info.run_size % PAGE) info.run_size = PAGE;
  if (info.xsave_size < sizeof(struct kvm_xsave)) info.xsave_size = sizeof(struct kvm_xsave);
  if (info.phys_bits < 32 || info.phys_bits > 52) info.phys_bits = 36;
  return info;
}

static void check_unknown_vm_ioctls(int vm) {
  uint32_t small = 0;
  struct kvm_regs regs;
  memset(&regs, 0, sizeof regs);
  expect_err(call(vm, _IO(DUNE_IOC_MAGIC, 0x7f), NULL), "VM: an unknown Dune ioctl number is ENOTTY", ENOTTY, 0);
  expect_err(call(vm, _IOR(DUNE_IOC_MAGIC, 0x01, uint32_t), &small),
             "VM: DUNE_GET_INFO's number with another size is ENOTTY", ENOTTY, 0);
  expect_err(call(vm, KVM_GET_API_VERSION, NULL), "VM: a KVM ioctl is ENOTTY", ENOTTY, 0);
  expect_err(call(vm, DUNE_RUN, NULL), "VM: DUNE_RUN (a vCPU ioctl) is ENOTTY", ENOTTY, 0);
  expect_err(call(vm, DUNE_GET_REGS, &regs), "VM: DUNE_GET_REGS (a vCPU ioctl) is ENOTTY", ENOTTY, 0);
}

static void check_unknown_vcpu_ioctls(int vcpu) {
  struct kvm_userspace_memory_region region = {.slot = 1, .guest_phys_addr = 0x100000, .memory_size = PAGE};
  expect_err(call(vcpu, _IO(DUNE_IOC_MAGIC, 0x7f), NULL), "vCPU: an unknown Dune ioctl number is ENOTTY", ENOTTY, 0);
  expect_err(call(vcpu, DUNE_CREATE_VCPU, NULL), "vCPU: DUNE_CREATE_VCPU (a VM ioctl) is ENOTTY", ENOTTY, 0);
  expect_err(call(vcpu, DUNE_SET_REGION, &region), "vCPU: DUNE_SET_REGION (a VM ioctl) is ENOTTY", ENOTTY, 0);
  expect_err(call(vcpu, DUNE_GET_ABI_VERSION, NULL), "vCPU: DUNE_GET_ABI_VERSION (a VM ioctl) is ENOTTY", ENOTTY,
             0);
}

struct ptr_ioctl {
  int on_vcpu;
  unsigned long req;
  const char *name;
  size_t size;
  int writes; /* the module writes the struct back (a read-only buffer must fail too) */
};
#define PTR_IOCTL(on_vcpu, req, type, writes) {on_vcpu, req, #req, sizeof(type), writes}
static const struct ptr_ioctl ptr_ioctls[] = {
    PTR_IOCTL(0, DUNE_GET_INFO, struct dune_info, 1),
    PTR_IOCTL(0, DUNE_SET_REGION, struct kvm_userspace_memory_region, 0),
    PTR_IOCTL(0, DUNE_SET_SYSCALL_FASTPATH, struct dune_syscall_fastpath, 0),
    PTR_IOCTL(1, DUNE_GET_REGS, struct kvm_regs, 1),
    PTR_IOCTL(1, DUNE_SET_REGS, struct kvm_regs, 0),
    PTR_IOCTL(1, DUNE_GET_SREGS, struct kvm_sregs, 1),
    PTR_IOCTL(1, DUNE_SET_SREGS, struct kvm_sregs, 0),
    PTR_IOCTL(1, DUNE_GET_MSRS, struct kvm_msrs, 1),
    PTR_IOCTL(1, DUNE_SET_MSRS, struct kvm_msrs, 0),
    PTR_IOCTL(1, DUNE_SET_XCRS, struct kvm_xcrs, 0),
    PTR_IOCTL(1, DUNE_GET_XSAVE, struct kvm_xsave, 1),
    PTR_IOCTL(1, DUNE_SET_XSAVE, struct kvm_xsave, 0),
};

/* Every ioctl that takes a pointer, given pointers it cannot use: EFAULT. */
static void check_bad_pointers(int vm, int vcpu) {
  /* [writable][PROT_NONE guard][read-only] */
  unsigned char *area = map_anon(3 * PAGE, PROT_READ | PROT_WRITE);
  unsigned char *guard = area + PAGE, *ro = area + 2 * PAGE;
  struct kvm_msrs *ro_msrs = (struct kvm_msrs *)ro;
  ro_msrs->nmsrs = 1; /* a valid request: only the write-back can fail */
  ro_msrs->entries[0].index = MSR_FS_BASE;
  if (mprotect(guard, PAGE, PROT_NONE) || mprotect(ro, PAGE, PROT_READ)) {
    perror("module_abuse: mprotect");
    exit(1);
  }
  for (size_t i = 0; i < sizeof ptr_ioctls / sizeof ptr_ioctls[0]; i++) {
    const struct ptr_ioctl *p = &ptr_ioctls[i];
    int fd = p->on_vcpu ? vcpu : vm;
    char what[160];
    struct {
      void *ptr;
      const char *desc;
    } bad[] = {{NULL, "NULL"},
               {(void *)1, "(void *)1"},
               {KERNEL_PTR, "a kernel address"},
               {guard, "a PROT_NONE page"},
               {guard - p->size + 8, "a struct whose last 8 bytes are in a PROT_NONE page"}};
    if (p->req == DUNE_GET_MSRS || p->req == DUNE_SET_MSRS) {
      /* The header readable, its one entry in the guard page. */
      struct kvm_msrs *h = (struct kvm_msrs *)(guard - sizeof *h);
      h->nmsrs = 1;
      bad[4].ptr = h;
      bad[4].desc = "a valid header whose entry is in a PROT_NONE page";
    }
    for (size_t k = 0; k < sizeof bad / sizeof bad[0]; k++) {
      snprintf(what, sizeof what, "%s with %s is EFAULT", p->name, bad[k].desc);
      expect_err(call(fd, p->req, bad[k].ptr), what, EFAULT, 0);
    }
    if (p->writes) {
      snprintf(what, sizeof what, "%s into a read-only page is EFAULT", p->name);
      expect_err(call(fd, p->req, ro), what, EFAULT, 0);
    }
  }
  munmap(area, 3 * PAGE);
}

/* Slot 0 ends up holding the small guest. */
static void check_regions(int vm, const struct dune_info *info, unsigned char *mem) {
  unsigned char *other = map_anon(2 * GUEST_SIZE, PROT_READ | PROT_WRITE);
  uintptr_t hva = (uintptr_t)other;
  uint64_t top = 1ull << info->phys_bits;
  build_guest(mem);
  expect_ret(set_region(vm, 0, 0, 0, GUEST_SIZE, (uintptr_t)mem), "DUNE_SET_REGION slot 0: 64 KiB at 0", 0);
  expect_err(set_region(vm, 1, 0, 0x100001, PAGE, hva), "DUNE_SET_REGION: unaligned guest_phys_addr is EINVAL",
             EINVAL, 0);
  expect_err(set_region(vm, 1, 0, 0x100000, PAGE + 1, hva), "DUNE_SET_REGION: unaligned memory_size is EINVAL",
             EINVAL, 0);
  expect_err(set_region(vm, 1, 0, 0x100000, PAGE, hva + 1), "DUNE_SET_REGION: unaligned userspace_addr is EINVAL",
             EINVAL, 0);
  expect_err(set_region(vm, info->max_slots, 0, 0x100000, PAGE, hva), "DUNE_SET_REGION: slot max_slots is EINVAL",
             EINVAL, 0);
  expect_err(set_region(vm, 0xffffffffu, 0, 0x100000, PAGE, hva), "DUNE_SET_REGION: slot 0xffffffff is EINVAL",
             EINVAL, 0);
  expect_err(set_region(vm, 1, 0, 0x100000, 1ull << 60, hva), "DUNE_SET_REGION: memory_size 1<<60 is EINVAL", EINVAL,
             0);
  expect_err(set_region(vm, 1, 0, 0x100000, PAGE, (uintptr_t)KERNEL_PTR),
             "DUNE_SET_REGION: userspace_addr in kernel space is EINVAL", EINVAL, 0);
  expect_err(set_region(vm, 1, 0, 0x100000, 2 * PAGE, USER_END - PAGE),
             "DUNE_SET_REGION: a range past the end of user space is EINVAL", EINVAL, 0);
  expect_err(set_region(vm, 1, 0, 0x100000, 0 - (uint64_t)hva, hva),
             "DUNE_SET_REGION: userspace_addr + memory_size wrapping to 0 is EINVAL", EINVAL, 0);
  expect_err(set_region(vm, 1, 0, top, PAGE, hva), "DUNE_SET_REGION: guest_phys_addr at 1<<phys_bits is EINVAL",
             EINVAL, 0);
  expect_err(set_region(vm, 1, 0, top - PAGE, 2 * PAGE, hva),
             "DUNE_SET_REGION: a guest range crossing 1<<phys_bits is EINVAL", EINVAL, 0);
  expect_err(set_region(vm, 1, 1u << 31, 0x100000, PAGE, hva), "DUNE_SET_REGION: an unknown flag is EINVAL", EINVAL,
             0);
  expect_err(set_region(vm, 1, 0, 0x8000, PAGE, hva), "DUNE_SET_REGION: a range inside slot 0 is EINVAL or EEXIST",
             EINVAL, EEXIST);
  expect_err(set_region(vm, 1, 0, GUEST_SIZE - PAGE, 2 * PAGE, hva),
             "DUNE_SET_REGION: a range over slot 0's end is EINVAL or EEXIST", EINVAL, EEXIST);
  expect_err(set_region(vm, 1, 0, 0, 2 * GUEST_SIZE, hva),
             "DUNE_SET_REGION: a range covering slot 0 is EINVAL or EEXIST", EINVAL, EEXIST);
  struct res r = set_region(vm, 5, 0, 0, 0, 0);
  report(r.ret == 0 || (r.ret < 0 && r.err == EINVAL), "DUNE_SET_REGION: deleting a slot never set is 0 or EINVAL",
         "%s", show(r));
  expect_ret(set_region(vm, 1, 0, 0x100000, PAGE, hva), "DUNE_SET_REGION slot 1: one page at 0x100000", 0);
  expect_ret(set_region(vm, 1, 0, 0, 0, 0), "DUNE_SET_REGION: deleting slot 1", 0);
  munmap(other, 2 * GUEST_SIZE);
}

/* The run page: the right size at offset 0 only; the VM descriptor has none. */
static struct kvm_run *check_mmap(int vm, int vcpu) {
  struct {
    int fd;
    size_t size;
    off_t offset;
    const char *what;
  } bad[] = {{vcpu, run_size + PAGE, 0, "mmap of the vCPU: run_size + 4096 bytes fails"},
             {vcpu, run_size, (off_t)PAGE, "mmap of the vCPU at offset 4096 fails"},
             {vm, PAGE, 0, "mmap of the VM descriptor fails"}};
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    void *p = mmap(NULL, bad[i].size, PROT_READ | PROT_WRITE, MAP_SHARED, bad[i].fd, bad[i].offset);
    if (p == MAP_FAILED) {
      report(1, bad[i].what, "%s", ename(errno));
    } else {
      report(0, bad[i].what, "it succeeded");
      munmap(p, bad[i].size);
    }
  }
  void *run = mmap(NULL, run_size, PROT_READ | PROT_WRITE, MAP_SHARED, vcpu, 0);
  report(run != MAP_FAILED, "mmap of the vCPU: run_size bytes at offset 0", "%s",
         run == MAP_FAILED ? ename(errno) : "");
  return run == MAP_FAILED ? NULL : run;
}

static void check_sregs(int vcpu) {
  struct kvm_sregs s, good, bad, now;
  memset(&now, 0, sizeof now);
  struct res r = call(vcpu, DUNE_GET_SREGS, &s);
  expect_ret(r, "DUNE_GET_SREGS of a new vCPU", 0);
  if (r.ret) memset(&s, 0, sizeof s);
  good = s;
  long_mode_sregs(&good);
  expect_ret(call(vcpu, DUNE_SET_SREGS, &good), "DUNE_SET_SREGS: 64-bit mode with paging", 0);
  struct {
    int reg; /* 0 cr0, 1 cr4, 2 efer */
    uint64_t clear;
    const char *what;
  } cases[] = {{0, CR0_PG, "DUNE_SET_SREGS: CR0 without PG is EINVAL"},
               {0, CR0_PE, "DUNE_SET_SREGS: CR0 without PE is EINVAL"},
               {1, CR4_PAE, "DUNE_SET_SREGS: CR4 without PAE is EINVAL"},
               {2, EFER_LMA, "DUNE_SET_SREGS: EFER without LMA is EINVAL"},
               {2, EFER_LME, "DUNE_SET_SREGS: EFER without LME is EINVAL"}};
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    bad = good;
    bad.cr3 = 0x5000; /* shows whether a refused call changed anything */
    __u64 *reg = cases[i].reg == 0 ? &bad.cr0 : cases[i].reg == 1 ? &bad.cr4 : &bad.efer;
    *reg &= ~cases[i].clear;
    expect_err(call(vcpu, DUNE_SET_SREGS, &bad), cases[i].what, EINVAL, 0);
  }
  r = call(vcpu, DUNE_GET_SREGS, &now);
  int kept = r.ret == 0 && now.cr3 == good.cr3 && (now.cr0 & (CR0_PE | CR0_PG)) == (CR0_PE | CR0_PG) &&
             (now.cr4 & CR4_PAE) && (now.efer & (EFER_LME | EFER_LMA)) == (EFER_LME | EFER_LMA);
  report(kept, "refused DUNE_SET_SREGS calls changed nothing", "%s, cr0 %#llx cr3 %#llx cr4 %#llx efer %#llx", show(r),
         (unsigned long long)now.cr0, (unsigned long long)now.cr3, (unsigned long long)now.cr4,
         (unsigned long long)now.efer);
}

/* A struct kvm_msrs with room for DUNE_MAX_MSRS + 2 entries. */
union msr_buf {
  struct kvm_msrs h;
  unsigned char bytes[sizeof(struct kvm_msrs) + (DUNE_MAX_MSRS + 2) * sizeof(struct kvm_msr_entry)];
};

static struct res msrs(int vcpu, unsigned long req, union msr_buf *m, uint32_t n, const uint32_t *idx,
                       const uint64_t *val) {
  memset(m, 0, sizeof *m);
  m->h.nmsrs = n;
  for (uint32_t i = 0; i < n && i < DUNE_MAX_MSRS + 2; i++) {
    m->h.entries[i].index = idx ? idx[i] : MSR_FS_BASE;
    m->h.entries[i].data = val ? val[i] : 0;
  }
  return call(vcpu, req, m);
}

static void check_msrs(int vcpu) {
  union msr_buf m;
  struct res r;
  r = msrs(vcpu, DUNE_GET_MSRS, &m, DUNE_MAX_MSRS + 1, NULL, NULL);
  expect_err(r, "DUNE_GET_MSRS: nmsrs DUNE_MAX_MSRS + 1 is E2BIG or EINVAL", E2BIG, EINVAL);
  r = msrs(vcpu, DUNE_SET_MSRS, &m, DUNE_MAX_MSRS + 1, NULL, NULL);
  expect_err(r, "DUNE_SET_MSRS: nmsrs DUNE_MAX_MSRS + 1 is E2BIG or EINVAL", E2BIG, EINVAL);
  memset(&m, 0, sizeof m);
  m.h.nmsrs = 0xffffffffu;
  expect_err(call(vcpu, DUNE_GET_MSRS, &m), "DUNE_GET_MSRS: nmsrs 0xffffffff is E2BIG or EINVAL", E2BIG, EINVAL);
  expect_err(call(vcpu, DUNE_SET_MSRS, &m), "DUNE_SET_MSRS: nmsrs 0xffffffff is E2BIG or EINVAL", E2BIG, EINVAL);
  r = msrs(vcpu, DUNE_GET_MSRS, &m, DUNE_MAX_MSRS, NULL, NULL);
  expect_ret(r, "DUNE_GET_MSRS: DUNE_MAX_MSRS entries", DUNE_MAX_MSRS);

  uint32_t fs[] = {MSR_FS_BASE};
  uint64_t fs_val[] = {0x7f0000001000ull};
  expect_ret(msrs(vcpu, DUNE_SET_MSRS, &m, 1, fs, fs_val), "DUNE_SET_MSRS: FS_BASE", 1);
  r = msrs(vcpu, DUNE_GET_MSRS, &m, 1, fs, NULL);
  report(r.ret == 1 && m.h.entries[0].data == fs_val[0], "DUNE_GET_MSRS: FS_BASE reads back", "%s, %#llx", show(r),
         (unsigned long long)m.h.entries[0].data);

  uint32_t with_bogus[] = {MSR_LSTAR, MSR_BOGUS};
  uint64_t vals[] = {GUEST_CODE, 0};
  r = msrs(vcpu, DUNE_SET_MSRS, &m, 2, with_bogus, vals);
  report(r.ret >= 0 && r.ret < 2, "DUNE_SET_MSRS: an unknown MSR index stops short of nmsrs", "%s of 2", show(r));
  r = msrs(vcpu, DUNE_GET_MSRS, &m, 2, with_bogus, NULL);
  report(r.ret >= 0 && r.ret < 2, "DUNE_GET_MSRS: an unknown MSR index stops short of nmsrs", "%s of 2", show(r));
  uint32_t sysenter[] = {MSR_SYSENTER_EIP};
  r = msrs(vcpu, DUNE_SET_MSRS, &m, 1, sysenter, vals);
  report(r.ret == 0, "DUNE_SET_MSRS: SYSENTER_EIP (not in the ABI's list) is not done", "%s of 1", show(r));
  uint64_t noncanonical[] = {0x8000000000000000ull};
  r = msrs(vcpu, DUNE_SET_MSRS, &m, 1, fs, noncanonical);
  report(r.ret == 0 || (r.ret < 0 && r.err == EINVAL), "DUNE_SET_MSRS: a non-canonical FS_BASE is refused",
         "%s of 1", show(r));
}

static struct res set_xcr(int vcpu, uint32_t nr, uint32_t index, uint64_t value) {
  struct kvm_xcrs x;
  memset(&x, 0, sizeof x);
  x.nr_xcrs = nr;
  x.xcrs[0].xcr = index;
  x.xcrs[0].value = value;
  return call(vcpu, DUNE_SET_XCRS, &x);
}

static void check_xcrs(int vcpu, uint64_t host) {
  uint64_t missing = 0;
  for (int b = 1; b < 63 && !missing; b++)
    if (!(host & (1ull << b))) missing = 1ull << b;
  expect_err(set_xcr(vcpu, KVM_MAX_XCRS + 1, 0, host | 1), "DUNE_SET_XCRS: nr_xcrs KVM_MAX_XCRS + 1 is EINVAL",
             EINVAL, 0);
  expect_err(set_xcr(vcpu, 1, 0, (host & ~1ull) | 2), "DUNE_SET_XCRS: XCR0 without x87 is EINVAL", EINVAL, 0);
  expect_err(set_xcr(vcpu, 1, 0, host | 1 | missing), "DUNE_SET_XCRS: XCR0 with a bit the host lacks is EINVAL",
             EINVAL, 0);
  expect_err(set_xcr(vcpu, 1, 0, host | 1 | (1ull << 63)), "DUNE_SET_XCRS: XCR0 with bit 63 is EINVAL", EINVAL, 0);
  if (host)
    expect_ret(set_xcr(vcpu, 1, 0, host), "DUNE_SET_XCRS: the host's XCR0", 0);
  else
    expect_err(set_xcr(vcpu, 1, 0, 1), "DUNE_SET_XCRS: any XCR0 on a host without XSAVE is EINVAL", EINVAL, 0);
}

static void check_xsave(int vcpu, size_t size) {
  /* xsave_size bytes: more than struct kvm_xsave where the host has large state components. */
  unsigned char *good = map_anon(size, PROT_READ | PROT_WRITE), *bad = map_anon(size, PROT_READ | PROT_WRITE);
  struct res r = call(vcpu, DUNE_GET_XSAVE, good);
  expect_ret(r, "DUNE_GET_XSAVE", 0);
  expect_ret(call(vcpu, DUNE_SET_XSAVE, good), "DUNE_SET_XSAVE of what DUNE_GET_XSAVE gave", 0);
  memcpy(bad, good, size);
  uint32_t mxcsr = 0xffffffffu;
  memcpy(bad + 24, &mxcsr, sizeof mxcsr); /* MXCSR in the legacy area: reserved bits set */
  uint64_t bv;
  memcpy(&bv, bad + 512, sizeof bv); /* XSTATE_BV: x87 and SSE in use, or MXCSR is not looked at */
  bv |= 3;
  memcpy(bad + 512, &bv, sizeof bv);
  expect_err(call(vcpu, DUNE_SET_XSAVE, bad), "DUNE_SET_XSAVE: MXCSR with reserved bits is EINVAL", EINVAL, 0);
  memcpy(bad, good, size);
  memcpy(&bv, bad + 512, sizeof bv);
  bv |= 1ull << 62;
  memcpy(bad + 512, &bv, sizeof bv);
  expect_err(call(vcpu, DUNE_SET_XSAVE, bad), "DUNE_SET_XSAVE: XSTATE_BV with a bit the host lacks is EINVAL",
             EINVAL, 0);
  munmap(good, size);
  munmap(bad, size);
}

static void check_guest_runs(int vcpu, struct kvm_run *run) {
  if (!run) {
    report(0, "the small guest runs (out, then hlt)", "no run page");
    return;
  }
  const char *why = guest_round(vcpu, run);
  report(!why, "the small guest runs (out, then hlt)", "%s", why ? why : "");
  run->immediate_exit = 1;
  struct res r = run_vcpu(vcpu);
  report(r.ret == -1 && r.err == EINTR && run->exit_reason == KVM_EXIT_INTR,
         "DUNE_RUN with immediate_exit is EINTR with KVM_EXIT_INTR", "%s, %s", show(r), exit_name(run->exit_reason));
  run->immediate_exit = 0;
  why = guest_round(vcpu, run);
  report(!why, "the small guest runs again after immediate_exit", "%s", why ? why : "");
}

/* A state the module may refuse when it is set (EINVAL from `setter`) or when it runs. */
static void expect_refused_state(struct res set, const char *setter, const char *what, int vcpu, struct kvm_run *run) {
  char line[160];
  if (set.ret < 0 && set.err == EINVAL) {
    snprintf(line, sizeof line, "%s: refused by %s", what, setter);
    report(1, line, "EINVAL");
  } else if (set.ret) {
    snprintf(line, sizeof line, "%s: %s", what, setter);
    report(0, line, "%s, want 0 or EINVAL", show(set));
  } else {
    snprintf(line, sizeof line, "DUNE_RUN with %s is refused", what);
    expect_refused_run(vcpu, run, line);
  }
}

static struct res set_fastpath(int vm, struct dune_syscall_fastpath f) {
  return call(vm, DUNE_SET_SYSCALL_FASTPATH, &f);
}

/* One `out` to the fast-path port with RAX = nr: the exit it gave (KVM_EXIT_HLT when the module
 * completed the syscall itself) and RAX after. A forwarded `out` is run to the `hlt` after it, so
 * that no I/O is left pending (the module steps over an `out` at the next run when RIP was left
 * where it was, even if user space set it to that same value). NULL, or what went wrong. */
static const char *fast_out(int vcpu, struct kvm_run *run, uint64_t nr, uint32_t *exit, uint64_t *rax) {
  static char why[128];
  struct kvm_regs regs = {.rip = GUEST_FAST, .rflags = 0x2, .rax = nr, .rsp = GUEST_SIZE - 0x100};
  struct res r = call(vcpu, DUNE_SET_REGS, &regs);
  if (r.ret) return snprintf(why, sizeof why, "DUNE_SET_REGS %s", show(r)), why;
  r = run_vcpu(vcpu);
  if (r.ret) return snprintf(why, sizeof why, "DUNE_RUN %s (%s)", show(r), exit_name(run->exit_reason)), why;
  *exit = run->exit_reason;
  r = call(vcpu, DUNE_GET_REGS, &regs);
  if (r.ret) return snprintf(why, sizeof why, "DUNE_GET_REGS %s", show(r)), why;
  *rax = regs.rax;
  if (*exit == KVM_EXIT_IO) {
    r = run_vcpu(vcpu);
    if (r.ret || run->exit_reason != KVM_EXIT_HLT)
      return snprintf(why, sizeof why, "the run after the forwarded out %s with %s, want KVM_EXIT_HLT", show(r),
                      exit_name(run->exit_reason)),
             why;
  }
  return NULL;
}

/* DUNE_SET_SYSCALL_FASTPATH: bad values refused; what is enabled is completed in the kernel, the
 * rest still reaches user space. */
static void check_fastpath(int vm, int vcpu, struct kvm_run *run) {
  struct dune_syscall_fastpath f;
  memset(&f, 0, sizeof f);
  f.port = GUEST_FAST_PORT;
  f.syscalls = DUNE_FAST_ALL + 1;
  expect_err(set_fastpath(vm, f), "DUNE_SET_SYSCALL_FASTPATH: a syscall bit past DUNE_FAST_ALL is EINVAL", EINVAL, 0);
  f.syscalls = DUNE_FAST_GETPID;
  f.flags = 1;
  expect_err(set_fastpath(vm, f), "DUNE_SET_SYSCALL_FASTPATH: a flag is EINVAL", EINVAL, 0);
  f.flags = 0;
  f.reserved0 = 1;
  expect_err(set_fastpath(vm, f), "DUNE_SET_SYSCALL_FASTPATH: reserved0 set is EINVAL", EINVAL, 0);
  f.reserved0 = 0;
  f.reserved[1] = 1;
  expect_err(set_fastpath(vm, f), "DUNE_SET_SYSCALL_FASTPATH: reserved[1] set is EINVAL", EINVAL, 0);
  f.reserved[1] = 0;
  expect_ret(set_fastpath(vm, f), "DUNE_SET_SYSCALL_FASTPATH: getpid on port 0x12", 0);
  if (!run) return;

  uint32_t exit = 0;
  uint64_t rax = 0;
  const char *why = fast_out(vcpu, run, SYS_getpid, &exit, &rax);
  report(!why && exit == KVM_EXIT_HLT && rax == (uint64_t)getpid(), "getpid through the fast path is done in the kernel",
         "%s%s, RAX %lld, pid %d", why ? why : "", why ? "" : exit_name(exit), (long long)rax, (int)getpid());
  why = fast_out(vcpu, run, SYS_getppid, &exit, &rax);
  report(!why && exit == KVM_EXIT_IO && run->io.port == GUEST_FAST_PORT,
         "getppid (not enabled) on the fast-path port reaches user space", "%s%s", why ? why : "",
         why ? "" : exit_name(exit));
  why = fast_out(vcpu, run, ~0ull, &exit, &rax);
  report(!why && exit == KVM_EXIT_IO, "RAX = ~0 on the fast-path port reaches user space", "%s%s", why ? why : "",
         why ? "" : exit_name(exit));
  f.port = 0;
  expect_ret(set_fastpath(vm, f), "DUNE_SET_SYSCALL_FASTPATH: port 0 (off)", 0);
  why = fast_out(vcpu, run, SYS_getpid, &exit, &rax);
  report(!why && exit == KVM_EXIT_IO, "with the fast path off, getpid reaches user space", "%s%s", why ? why : "",
         why ? "" : exit_name(exit));
}

/* A vCPU whose state was never set, then states the CPU cannot run. */
static void check_garbage_runs(int vcpu, struct kvm_run *run) {
  expect_refused_run(vcpu, run, "DUNE_RUN of a vCPU whose registers were never set is refused");
  expect_refused_run(vcpu, run, "DUNE_RUN of it again is refused");

  struct kvm_sregs s;
  memset(&s, 0, sizeof s);
  s.cr0 = CR0_LONG_MODE; /* control registers as the ABI wants, segments all zero */
  s.cr4 = CR4_PAE;
  s.efer = EFER_LME | EFER_LMA;
  s.cr3 = 0x7fff0000; /* in no slot */
  expect_refused_state(call(vcpu, DUNE_SET_SREGS, &s), "DUNE_SET_SREGS", "zero segments and CR3 in no slot", vcpu,
                       run);

  long_mode_sregs(&s);
  struct res r = call(vcpu, DUNE_SET_SREGS, &s);
  if (r.ret) {
    report(0, "DUNE_SET_SREGS: 64-bit mode (for the bad RIP and RFLAGS)", "%s", show(r));
    return;
  }
  struct kvm_regs regs = {.rip = 0x8000000000000000ull, .rflags = 0x2};
  expect_refused_state(call(vcpu, DUNE_SET_REGS, &regs), "DUNE_SET_REGS", "a non-canonical RIP", vcpu, run);
  regs.rip = GUEST_CODE;
  regs.rflags = 0x2 | (1ull << 17); /* VM: virtual-8086 mode, which 64-bit mode cannot have */
  expect_refused_state(call(vcpu, DUNE_SET_REGS, &regs), "DUNE_SET_REGS", "RFLAGS.VM set", vcpu, run);
}

/* fork(), with the child's lines marked as its own; -1 (reported) if it failed. */
static pid_t fork_child(void) {
  fflush(stdout);
  pid_t pid = fork();
  if (pid < 0)
    report(0, "fork", "%s", ename(errno));
  else if (pid == 0)
    who = "child: ";
  return pid;
}

/* A forked child inherits the descriptors, not the right to use them. */
static void check_fork(int vm, int vcpu, struct kvm_run *run, unsigned char *mem) {
  pid_t pid = fork_child();
  if (pid < 0) return;
  if (pid == 0) {
    struct dune_info info;
    struct kvm_regs regs;
    struct kvm_sregs sregs;
    union msr_buf m;
    struct kvm_userspace_memory_region region = {
        .slot = 3, .guest_phys_addr = 0x100000, .memory_size = PAGE, .userspace_addr = (uintptr_t)mem};
    memset(&regs, 0, sizeof regs);
    memset(&m, 0, sizeof m);
    m.h.nmsrs = 1;
    m.h.entries[0].index = MSR_FS_BASE;
    expect_err(call(vm, DUNE_GET_INFO, &info), "DUNE_GET_INFO on the parent's VM is EIO", EIO, 0);
    expect_err(call(vm, DUNE_SET_REGION, &region), "DUNE_SET_REGION on the parent's VM is EIO", EIO, 0);
    expect_err(call(vm, DUNE_CREATE_VCPU, NULL), "DUNE_CREATE_VCPU on the parent's VM is EIO", EIO, 0);
    struct dune_syscall_fastpath off;
    memset(&off, 0, sizeof off);
    expect_err(set_fastpath(vm, off), "DUNE_SET_SYSCALL_FASTPATH on the parent's VM is EIO", EIO, 0);
    expect_err(call(vcpu, DUNE_GET_REGS, &regs), "DUNE_GET_REGS on the parent's vCPU is EIO", EIO, 0);
    expect_err(call(vcpu, DUNE_SET_REGS, &regs), "DUNE_SET_REGS on the parent's vCPU is EIO", EIO, 0);
    expect_err(call(vcpu, DUNE_GET_SREGS, &sregs), "DUNE_GET_SREGS on the parent's vCPU is EIO", EIO, 0);
    expect_err(call(vcpu, DUNE_GET_MSRS, &m), "DUNE_GET_MSRS on the parent's vCPU is EIO", EIO, 0);
    expect_err(run_vcpu(vcpu), "DUNE_RUN on the parent's vCPU is EIO", EIO, 0);
    fflush(stdout);
    _exit(0); /* closing the inherited descriptors here must not end the parent's VM */
  }
  int status;
  waitpid(pid, &status, 0);
  report(WIFEXITED(status) && WEXITSTATUS(status) == 0, "the forked child ended normally", "wait status %#x", status);
  const char *why = run ? guest_round(vcpu, run) : "no run page";
  report(!why, "the parent's guest still runs after the child exited", "%s", why ? why : "");
}

/* One process closes its descriptors while another process runs a VM of its own. */
static void check_close_while_other_runs(int *vm, int *vcpus, struct kvm_run **runs, int nvcpus) {
  int to_child[2], to_parent[2];
  if (pipe(to_child) || pipe(to_parent)) {
    report(0, "pipe", "%s", ename(errno));
    return;
  }
  pid_t pid = fork_child();
  if (pid < 0) return;
  if (pid == 0) {
    close(to_child[1]);
    close(to_parent[0]);
    fcntl(to_child[0], F_SETFL, O_NONBLOCK);
    /* Not the parent's: its own VM, its own memory. */
    close(*vm);
    for (int i = 0; i < nvcpus; i++) {
      if (vcpus[i] >= 0) close(vcpus[i]);
      if (runs[i]) munmap(runs[i], run_size);
    }
    int ok = 0, vcpu = -1;
    struct kvm_run *run = NULL;
    unsigned char *mem = map_anon(GUEST_SIZE, PROT_READ | PROT_WRITE);
    int own = open(DUNE_DEVICE_PATH, O_RDWR | O_CLOEXEC);
    const char *why = own < 0 ? "cannot open " DUNE_DEVICE_PATH : make_guest(own, mem, &vcpu, &run);
    if (!why) why = guest_round(vcpu, run);
    report(!why, "a VM of its own runs", "%s", why ? why : "");
    if (write(to_parent[1], why ? "F" : "R", 1) != 1) _exit(1);
    if (!why) {
      /* Run until the parent has closed everything, then a few rounds more. */
      long rounds = 0, after = -1;
      char c;
      while (!why && after < 20 && rounds < 1000000) {
        why = guest_round(vcpu, run);
        rounds++;
        if (after >= 0)
          after++;
        else if (read(to_child[0], &c, 1) == 1)
          after = 0;
      }
      ok = !why && after >= 20;
      report(ok, "its VM kept running while the parent closed its descriptors", "%ld rounds%s%s", rounds,
             why ? ": " : "", why ? why : (after < 0 ? ": the parent never said it had closed them" : ""));
    }
    fflush(stdout);
    _exit(ok ? 0 : 1);
  }
  close(to_child[0]);
  close(to_parent[1]);
  char c = 0;
  if (read(to_parent[0], &c, 1) != 1) c = 0;
  /* The VM descriptor first: its vCPUs must outlive it. */
  close(*vm);
  *vm = -1;
  int live = -1;
  for (int i = 0; i < nvcpus; i++)
    if (vcpus[i] >= 0 && runs[i]) live = i;
  if (live >= 0) {
    struct kvm_regs regs;
    expect_ret(call(vcpus[live], DUNE_GET_REGS, &regs), "DUNE_GET_REGS after its VM's descriptor was closed", 0);
    /* Whether it still runs is the module's choice; it must answer, and the kernel must not mind. */
    alarm_fired = 0;
    const char *why = guest_round(vcpus[live], runs[live]);
    report(!alarm_fired, "a guest run after its VM's descriptor was closed returns", "%s",
           why ? why : "it ran");
  }
  for (int i = 0; i < nvcpus; i++) {
    if (runs[i]) munmap(runs[i], run_size);
    if (vcpus[i] >= 0) close(vcpus[i]);
    runs[i] = NULL;
    vcpus[i] = -1;
  }
  if (write(to_child[1], "C", 1) != 1) report(0, "telling the child", "%s", ename(errno));
  close(to_child[1]);
  int status;
  waitpid(pid, &status, 0);
  close(to_parent[0]);
  report(c == 'R' && WIFEXITED(status) && WEXITSTATUS(status) == 0,
         "another process's VM is untouched by this one's close", "child %s, wait status %#x",
         c == 'R' ? "was running" : "never ran its VM", status);
}

int main(void) {
  setvbuf(stdout, NULL, _IOLBF, 0);
  tally = mmap(NULL, sizeof *tally, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
  if (tally == MAP_FAILED) {
    perror("module_abuse: mmap");
    return 1;
  }
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = on_alarm; /* no SA_RESTART: the alarm ends a stuck DUNE_RUN with EINTR */
  sigaction(SIGALRM, &sa, NULL);
  signal(SIGPIPE, SIG_IGN); /* a child that ended early: its pipe gives EPIPE, not death */

  int vm = open(DUNE_DEVICE_PATH, O_RDWR | O_CLOEXEC);
  if (vm < 0) {
    printf("module_abuse: FAIL open %s: %s (is dune.ko loaded?)\n", DUNE_DEVICE_PATH, ename(errno));
    printf("module_abuse: 0 passed, 1 failed\n");
    return 1;
  }
  struct dune_info info = check_identity(vm);
  run_size = info.run_size;
  check_unknown_vm_ioctls(vm);
  unsigned char *mem = map_anon(GUEST_SIZE, PROT_READ | PROT_WRITE);
  check_regions(vm, &info, mem);

  struct res r;
  int vcpus[2];
  struct kvm_run *runs[2];
  for (int i = 0; i < 2; i++) {
    r = call(vm, DUNE_CREATE_VCPU, (void *)(uintptr_t)i); /* the argument is the vCPU id */
    report(r.ret >= 0, i ? "DUNE_CREATE_VCPU: a second vCPU, id 1" : "DUNE_CREATE_VCPU: id 0", "%s", show(r));
    vcpus[i] = r.ret >= 0 ? (int)r.ret : -1;
  }
  r = call(vm, DUNE_CREATE_VCPU, (void *)(uintptr_t)(DUNE_MAX_VCPU_ID + 1));
  expect_err(r, "DUNE_CREATE_VCPU: id DUNE_MAX_VCPU_ID + 1 is EINVAL", EINVAL, 0);
  if (r.ret >= 0) close((int)r.ret);
  if (vcpus[0] < 0 || vcpus[1] < 0) {
    /* Everything below is about vCPUs: a line each would only repeat EBADF. */
    report(0, "the vCPU, run, fork and close checks", "not run: no vCPU to run them on");
    close(vm);
  } else {
    /* vcpus[0] is abused; vcpus[1] runs the small guest. */
    check_unknown_vcpu_ioctls(vcpus[0]);
    check_bad_pointers(vm, vcpus[0]);
    runs[0] = check_mmap(vm, vcpus[0]);
    runs[1] = mmap(NULL, run_size, PROT_READ | PROT_WRITE, MAP_SHARED, vcpus[1], 0);
    if (runs[1] == MAP_FAILED) runs[1] = NULL;
    check_sregs(vcpus[1]);
    check_msrs(vcpus[1]);
    check_xcrs(vcpus[1], info.host_xcr0);
    check_xsave(vcpus[1], info.xsave_size);
    check_guest_runs(vcpus[1], runs[1]);
    check_fastpath(vm, vcpus[1], runs[1]);
    check_garbage_runs(vcpus[0], runs[0]);
    check_fork(vm, vcpus[1], runs[1], mem);
    check_close_while_other_runs(&vm, vcpus, runs, 2);
  }

  int again = open(DUNE_DEVICE_PATH, O_RDWR | O_CLOEXEC);
  r = again < 0 ? (struct res){-1, errno} : call(again, DUNE_GET_ABI_VERSION, NULL);
  expect_ret(r, "a new VM after all that answers DUNE_GET_ABI_VERSION", DUNE_ABI_VERSION);
  if (again >= 0) close(again);

  printf("module_abuse: %d passed, %d failed\n", tally->passed, tally->failed);
  return tally->failed ? 1 : 0;
}
