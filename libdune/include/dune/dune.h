/* dune.h - the C API of libdune: enter Dune mode, trap handlers, trap frames. */
#ifndef DUNE_DUNE_H
#define DUNE_DUNE_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define DUNE_API __attribute__((visibility("default")))

/* Every call returns 0 on success or a negative errno value; on failure one
 * line explaining why goes through the library's log (stderr by default). */

/* Creates the process's VM and mirrors its address space into it. Call once. */
DUNE_API int dune_init(void);
/* Moves the calling thread into Dune mode: it returns 0 running in guest ring 3,
 * with the same registers, stack, TLS and memory. Returns 0 at once if the
 * thread is already in Dune mode. */
DUNE_API int dune_enter(void);
/* dune_init() if not done yet, then dune_enter(). */
DUNE_API int dune_init_and_enter(void);

/* 1 if the calling thread runs in Dune mode, else 0. */
DUNE_API int dune_is_active(void);

/* The bytes all memory slots together may cover (default 64 GiB, or
 * DUNE_MEM_BUDGET from the environment). Lowering it under what is already
 * covered fails with -EBUSY. */
DUNE_API int dune_set_mem_budget(uint64_t bytes);
DUNE_API uint64_t dune_get_mem_budget(void);

/* Exception vectors (Intel SDM numbering). */
#define T_DIVIDE 0   /* divide error */
#define T_DEBUG 1    /* debug exception */
#define T_NMI 2      /* non-maskable interrupt */
#define T_BRKPT 3    /* breakpoint */
#define T_OFLOW 4    /* overflow */
#define T_BOUND 5    /* bounds check */
#define T_ILLOP 6    /* illegal opcode */
#define T_DEVICE 7   /* device not available */
#define T_DBLFLT 8   /* double fault */
#define T_TSS 10     /* invalid task switch segment */
#define T_SEGNP 11   /* segment not present */
#define T_STACK 12   /* stack exception */
#define T_GPFLT 13   /* general protection fault */
#define T_PGFLT 14   /* page fault */
#define T_FPERR 16   /* floating point error */
#define T_ALIGN 17   /* alignment check */
#define T_MCHK 18    /* machine check */
#define T_SIMDERR 19 /* SIMD floating point error */

/* Page-fault error code bits (the fec argument of a page-fault handler). */
#define FEC_P 0x1  /* the page was present: a protection violation */
#define FEC_W 0x2  /* the access was a write */
#define FEC_U 0x4  /* the access came from user mode */
#define FEC_RSV 0x8
#define FEC_I 0x10 /* instruction fetch */

/* The interrupted context of a trap. Field order matches the original Dune's
 * struct dune_tf; the old padding after err now holds the vector. A handler
 * may change any field and return: execution resumes with the new values. */
struct dune_tf {
  uint64_t rdi, rsi, rdx, rcx, r8, r9, r10, r11;
  uint64_t rbx, rbp, r12, r13, r14, r15;
  uint64_t rax;
  uint32_t err;    /* error code pushed by the CPU, 0 if the vector has none */
  uint32_t vector; /* exception vector */
  uint64_t rip;
  uint16_t cs;
  uint16_t pad2[3];
  uint64_t rflags;
  uint64_t rsp;
  uint16_t ss;
  uint16_t pad3[3];
} __attribute__((packed));

typedef void (*dune_intr_cb)(struct dune_tf *tf);
typedef void (*dune_pgflt_cb)(uintptr_t addr, uint64_t fec, struct dune_tf *tf);

/* Handlers run in the guest, in ring 3, on the interrupted stack below its red
 * zone, with the FPU state saved around them. vector: 0..255. */
DUNE_API int dune_register_intr_handler(int vector, dune_intr_cb cb);
/* Takes precedence over an interrupt handler for T_PGFLT. */
DUNE_API int dune_register_pgflt_handler(dune_pgflt_cb cb);

/* Counters of the calling process since dune_init (in a forked child: since
 * the fork). Called in Dune mode it is one VM exit, which it counts. */
struct dune_stats {
  uint64_t vm_exits;
  uint64_t syscalls;      /* syscalls forwarded or handled */
  uint64_t guest_faults;  /* exceptions taken in the guest, page faults included */
  uint64_t page_faults;   /* guest page faults, resolved or not */
  uint64_t host_faults;   /* accesses the host refused (no memory behind a guest page) */
  uint64_t memslots;      /* memory slots in use now */
  uint64_t slot_bytes;    /* bytes the slots cover now */
  uint64_t vcpus;         /* vCPUs alive now */
  uint64_t pt_pages;      /* guest page-table pages in use */
};
DUNE_API int dune_get_stats(struct dune_stats *out);

/* Which hypervisor serves Dune mode, as detected by dune_init (before it:
 * what dune_init would find). */
enum dune_flavour {
  DUNE_FLAVOUR_UNKNOWN = 0,
  DUNE_FLAVOUR_VMX = 1,   /* hardware KVM on Intel VT-x */
  DUNE_FLAVOUR_SVM = 2,   /* hardware KVM on AMD-V */
  DUNE_FLAVOUR_PVM = 3,   /* PVM: software, pagetable-based virtualization */
  DUNE_FLAVOUR_OTHER = 4,
  DUNE_FLAVOUR_MODULE = 5, /* the Dune kernel module (/dev/dune) on Intel VT-x */
};
DUNE_API enum dune_flavour dune_get_flavour(void);
DUNE_API const char *dune_flavour_name(enum dune_flavour f);


/* ---- The classic Dune API: page tables, sandboxes ----
 * Same names, arguments and meanings as the original libdune; what differs in
 * this ring-3 design is said beside each call and in docs/classic-api.md. */

typedef uint64_t ptent_t;

/* Page-table entry bits (x86-64). */
#define PTE_P 0x001ull   /* present */
#define PTE_W 0x002ull   /* writable */
#define PTE_U 0x004ull   /* user (ring 3) may access */
#define PTE_PWT 0x008ull /* write-through */
#define PTE_PCD 0x010ull /* cache disable */
#define PTE_A 0x020ull   /* accessed: set by the MMU */
#define PTE_D 0x040ull   /* dirty: set by the MMU on a write */
#define PTE_PS 0x080ull  /* large page (in a PD or PDPT entry) */
#define PTE_G 0x100ull   /* global */
#define PTE_COW 0x200ull /* software: copy on write */
#define PTE_USR1 (1ull << 62) /* software flags: the program's own */
#define PTE_USR2 (1ull << 61)
#define PTE_USR3 (1ull << 60)
#define PTE_NX (1ull << 63) /* no execute */
#define PTE_ADDR(pte) ((uint64_t)(pte) & 0x000ffffffffff000ull)
#define PTE_FLAGS(pte) ((uint64_t)(pte) & 0xfff0000000000fffull)

/* Permissions of dune_vm_* calls. */
#define PERM_NONE 0x0000
#define PERM_R 0x0001     /* read (and present) */
#define PERM_W 0x0002     /* write */
#define PERM_X 0x0004     /* execute */
#define PERM_U 0x0008     /* ring 3 may access: see below */
#define PERM_UC 0x0010    /* uncached */
#define PERM_COW 0x0020   /* PTE_COW */
#define PERM_USR1 0x1000  /* PTE_USR1 */
#define PERM_USR2 0x2000  /* PTE_USR2 */
#define PERM_USR3 0x3000  /* PTE_USR1 | PTE_USR2, as in the original */
#define PERM_BIG 0x0100   /* 2 MiB pages: not supported (-ENOTSUP) */
#define PERM_BIG_1GB 0x0200 /* 1 GiB pages: not supported (-ENOTSUP) */
#define PERM_SCODE (PERM_R | PERM_X)
#define PERM_STEXT (PERM_R | PERM_W)
#define PERM_SSTACK PERM_STEXT
#define PERM_UCODE (PERM_R | PERM_U | PERM_X)
#define PERM_UTEXT (PERM_R | PERM_U | PERM_W)
#define PERM_USTACK PERM_UTEXT

#define VA_START ((void *)0)
#define VA_END ((void *)-1)
#define CREATE_NONE 0
#define CREATE_NORMAL 1

/* The process's own page table (its root page; entries are readable and
 * writable by the program in Dune mode). NULL until dune_init succeeded.
 * The program runs in ring 3, so in this table every page the process may
 * touch is PTE_U; PERM_U matters in a sandbox's table. */
DUNE_API extern ptent_t *pgroot;

/* All calls take a root (pgroot or one from dune_vm_clone/dune_vm_new_root)
 * and page-aligned addresses; a bad root, address, length or permission is
 * -EINVAL, an unsupported feature -ENOTSUP. A change is in force, for every
 * thread, before the call returns (TLB and shadow-MMU invalidation included).
 * On pgroot the library keeps the mappings in step with the process's memory:
 * dune_vm_mprotect changes the permission of mapped pages (until a host
 * mmap/mprotect/munmap over them); dune_vm_map_phys maps pa == dune_va_to_pa(va)
 * only; dune_vm_map_pages maps new anonymous memory where nothing is mapped;
 * dune_vm_unmap makes pages not present (the memory stays mapped on the host). */
DUNE_API int dune_vm_mprotect(ptent_t *root, void *va, size_t len, int perm);
DUNE_API int dune_vm_map_phys(ptent_t *root, void *va, size_t len, void *pa, int perm);
DUNE_API int dune_vm_map_pages(ptent_t *root, void *va, size_t len, int perm);
DUNE_API int dune_vm_unmap(ptent_t *root, void *va, size_t len); /* void in the original */
/* *pte_out: the leaf entry of va. create: CREATE_NORMAL makes missing tables
 * (sandbox roots only). -ENOENT where no table covers va. */
DUNE_API int dune_vm_lookup(ptent_t *root, void *va, int create, ptent_t **pte_out);
/* A new root with the same leaves as root (memory is shared, not copied), and
 * the library's own ring-0 structures. NULL on failure. */
DUNE_API ptent_t *dune_vm_clone(ptent_t *root);
/* A new root with nothing of the program mapped (an extension). */
DUNE_API ptent_t *dune_vm_new_root(void);
/* Frees a root from dune_vm_clone/dune_vm_new_root (not pgroot). */
DUNE_API void dune_vm_free(ptent_t *root);

/* Calls cb(arg, ptep, va) for each non-zero leaf with start_va <= va <= end_va
 * (end inclusive, as in the original) in ascending order; a non-zero return
 * stops the walk and is returned. cb may change *ptep (e.g. clear PTE_D or
 * PTE_A): the change is in force when the walk returns. */
typedef int (*page_walk_cb)(const void *arg, ptent_t *ptep, void *va);
DUNE_API int dune_vm_page_walk(ptent_t *root, void *start_va, void *end_va, page_walk_cb cb,
                               const void *arg);

/* After the program wrote entries itself (through dune_vm_lookup's pointer):
 * makes the change seen by every vCPU. */
DUNE_API void dune_flush_tlb(void);
DUNE_API void dune_flush_tlb_one(unsigned long addr);
/* The guest-physical address of the program's memory at ptr (== ptr unless
 * the packed layout is in use), or 0 if nothing backs it. */
DUNE_API uintptr_t dune_va_to_pa(void *ptr);

/* Sandboxes. The calling thread's sandbox runs in ring 3 with the page table
 * set here (NULL: pgroot, no isolation). */
DUNE_API int dune_set_user_root(ptent_t *root);
typedef void (*dune_syscall_cb)(struct dune_tf *tf);
/* Syscalls of code run through dune_jump_to_user go to cb, which runs on the
 * launcher's stack with the launcher's page table, and may let the syscall
 * run (dune_passthrough_syscall), emulate it (set tf->rax), or end the run
 * (dune_ret_from_user). tf->rax holds the number, tf->rdi, rsi, rdx, rcx (a
 * copy of r10, as in the original), r8, r9 the arguments. Without a handler a
 * sandbox's syscalls pass through. Returns 0, or -EINVAL for NULL. */
DUNE_API int dune_register_syscall_handler(dune_syscall_cb cb);
/* Runs the state tf (rip, rsp, registers) in ring 3 with the user root until a
 * handler calls dune_ret_from_user(ret); returns ret (or a negative errno if
 * the sandbox cannot start). Page faults and other exceptions of the sandbox
 * go to the launcher's handlers (dune_register_pgflt_handler/intr_handler);
 * without one the sandbox run ends with -EFAULT. Threads the sandbox creates
 * stay in it. */
DUNE_API int dune_jump_to_user(struct dune_tf *tf);
/* From a handler of a sandbox: ends the run; dune_jump_to_user returns ret. In
 * a thread the sandbox created, the thread exits with status ret. */
DUNE_API void dune_ret_from_user(int ret) __attribute__((noreturn));
/* Performs tf's syscall as the sandbox asked it; the result goes to tf->rax. */
DUNE_API void dune_passthrough_syscall(struct dune_tf *tf);

#ifdef __cplusplus
}
#endif

#endif /* DUNE_DUNE_H */
