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

/* Which hypervisor serves /dev/kvm, as detected by dune_init. */
enum dune_flavour {
  DUNE_FLAVOUR_UNKNOWN = 0,
  DUNE_FLAVOUR_VMX = 1,   /* hardware KVM on Intel VT-x */
  DUNE_FLAVOUR_SVM = 2,   /* hardware KVM on AMD-V */
  DUNE_FLAVOUR_PVM = 3,   /* PVM: software, pagetable-based virtualization */
  DUNE_FLAVOUR_OTHER = 4,
};
DUNE_API enum dune_flavour dune_get_flavour(void);
DUNE_API const char *dune_flavour_name(enum dune_flavour f);

#ifdef __cplusplus
}
#endif

#endif /* DUNE_DUNE_H */
