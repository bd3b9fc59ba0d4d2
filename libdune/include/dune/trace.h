/* trace.h - the event stream of libdune: VM exits, syscalls, faults, signals. */
#ifndef DUNE_TRACE_H
#define DUNE_TRACE_H

#include <dune/dune.h>

#ifdef __cplusplus
extern "C" {
#endif

enum dune_event_kind {
  DUNE_EV_VMEXIT = 1u << 0,    /* every VM exit, after the host handled it */
  DUNE_EV_SYSCALL = 1u << 1,   /* a guest syscall, after it completed */
  DUNE_EV_FAULT = 1u << 2,     /* a guest exception (page fault or other vector) */
  DUNE_EV_HOSTFAULT = 1u << 3, /* an access the host refused behind a valid guest page */
  DUNE_EV_BADSTACK = 1u << 4,  /* guest rsp off the thread's stack and sigaltstack, at an exit */
  DUNE_EV_SIGNAL = 1u << 5,    /* a signal delivered to the program */
  DUNE_EV_THREAD = 1u << 6,    /* a thread or process entered Dune mode or ended */
  DUNE_EV_EXEC = 1u << 7,      /* an execve(at) about to run: the image's last event if it succeeds */
};
#define DUNE_EV_ALL 0xffu
/* In a listener's mask: it does not read the events' regs, which may then be
 * NULL (the library saves copying the registers for every event). */
#define DUNE_EV_NO_REGS 0x80000000u

/* What the VM exit was for. */
enum dune_exit_kind {
  DUNE_EXIT_SYSCALL = 1,
  DUNE_EXIT_EXCEPTION = 2,
  DUNE_EXIT_TRAP_RETURN = 3, /* a Dune handler returned */
  DUNE_EXIT_HYPERCALL = 4,
  DUNE_EXIT_MMIO = 5,        /* guest access with no host memory behind it */
  DUNE_EXIT_MEMORY_FAULT = 6,
  DUNE_EXIT_INTERRUPTED = 7, /* KVM_RUN returned early for a host signal */
  DUNE_EXIT_OTHER = 8,
};

/* What became of a fault. */
enum dune_fault_outcome {
  DUNE_FAULT_RESOLVED = 1,    /* the library fixed it (stack growth, late mapping) and retried */
  DUNE_FAULT_HANDLER = 2,     /* given to the program's Dune trap handler */
  DUNE_FAULT_SIGNAL = 3,      /* delivered to the program as a signal */
  DUNE_FAULT_FATAL = 4,       /* the process is killed by the signal Linux would send */
};

/* What a bad stack pointer fell in: the library's mirror of the address space. */
enum dune_map_kind {
  DUNE_MAP_NONE = 0, /* nothing is mapped there */
  DUNE_MAP_ANON = 1,
  DUNE_MAP_FILE = 2,
  DUNE_MAP_STACK = 3, /* the main thread's stack */
  DUNE_MAP_HEAP = 4,  /* the brk heap */
  DUNE_MAP_VDSO = 5,
  DUNE_MAP_SHM = 6,
  DUNE_MAP_MONITOR = 7, /* the library's ring-0 pages */
  DUNE_MAP_PAGE_TABLES = 8, /* the guest page tables (classic API: readable by the program) */
};

/* dune_event.flags */
#define DUNE_EVF_NO_RETURN 1u /* DUNE_EV_SYSCALL: exit or exit_group, sent before it runs (ret is 0) */
#define DUNE_EVF_ENTRY 2u     /* DUNE_EV_SYSCALL: a call dune_set_syscall_entries named, before it runs (ret is 0);
                                 its usual event follows when it completes */

struct dune_event {
  uint32_t kind; /* one dune_event_kind */
  int32_t pid;
  int32_t tid;
  uint32_t flags;  /* DUNE_EVF_* */
  uint64_t tsc;    /* rdtsc when the event was recorded */
  uint64_t cycles; /* host-side cycles the event took (exit handling, syscall) */
  const struct dune_tf *regs; /* guest registers at the event (rip, rsp, ...) */
  union {
    struct {
      uint32_t kvm_reason; /* KVM_EXIT_* */
      uint32_t exit_kind;  /* dune_exit_kind */
      uint32_t port;
      uint32_t vector;
    } vmexit;
    struct {
      int64_t nr;
      uint64_t args[6];
      int64_t ret;   /* DUNE_EV_EXEC: 0 (it has not run) */
    } syscall;       /* DUNE_EV_SYSCALL and DUNE_EV_EXEC */
    struct {
      uint32_t vector;
      uint32_t outcome;  /* dune_fault_outcome */
      uint64_t err;      /* error code */
      uint64_t addr;     /* faulting address for page faults (cr2) */
      int32_t mapped;    /* 1 if the host has a mapping at addr */
      int32_t prot;      /* its PROT_* bits when mapped */
      int32_t signo;     /* signal sent, if any */
      int32_t pad;
    } fault;
    struct {
      uint64_t addr;
      int32_t is_write;
      int32_t outcome;  /* dune_fault_outcome: DUNE_FAULT_SIGNAL or DUNE_FAULT_FATAL */
      int32_t mapped;   /* 1 if the host has a mapping at addr */
      int32_t prot;     /* its PROT_* bits when mapped */
      int32_t signo;    /* the signal it became */
      int32_t pad;
    } hostfault;
    struct {
      int32_t started; /* 1: thread entered Dune mode; 0: exited */
      int32_t status;  /* exit status (started == 0, signo == 0) */
      int32_t process; /* 1: the process itself: its first thread, exit_group, death */
      int32_t signo;   /* started == 0: killed by this signal (0: exited) */
      int32_t ppid;    /* started == 1 and process == 1: the parent */
    } thread;
    struct {
      uint64_t rsp;
      uint64_t map_start, map_end; /* the mapping rsp is in (0, 0: none) */
      int32_t map_prot;            /* its PROT_* bits */
      uint32_t map_kind;           /* dune_map_kind */
      uint64_t stack_start, stack_end;       /* the thread's stack */
      uint64_t altstack_start, altstack_end; /* its sigaltstack (0, 0: none) */
    } badstack;
    struct {
      int32_t signo;
      int32_t code;    /* si_code */
      uint64_t addr;   /* si_addr for faults */
      uint64_t handler;
    } signal;
  } u;
};

/* Process deaths by a signal (a fault, or a signal whose default action kills)
 * are DUNE_EV_THREAD events with signo set when the listener was installed
 * before dune_init. An execve or execveat that will likely succeed (the file is
 * there and executable) is announced by DUNE_EV_EXEC before it runs, so that a
 * listener can look at the image once more; a failed one then simply returns.
 * A bad stack pointer is checked at every VM exit: rsp must be in the thread's
 * stack (the mapping it started on; the main stack with room to grow), its
 * sigaltstack, or another stack mapping.
 *
 * The listener runs on the host side of the thread that caused the event, while
 * the guest is stopped. It must be async-signal-safe: no malloc, no stdio (the
 * guest may hold their locks); write(2) to a file descriptor is fine. */
typedef void (*dune_event_fn)(const struct dune_event *ev, void *ctx);

/* Installs (or with fn == NULL removes) the one listener for the kinds in mask. */
DUNE_API int dune_set_event_listener(dune_event_fn fn, void *ctx, uint32_t mask);

/* The syscalls whose DUNE_EV_SYSCALL the listener also wants before they run
 * (DUNE_EVF_ENTRY): to see memory the call will change, an in-out argument.
 * Bit nr % 64 of words[nr / 64], for nr < 64 * n_words (at most 1024); NULL or
 * n_words 0: none. -EINVAL for more words than that. */
DUNE_API int dune_set_syscall_entries(const uint64_t *words, unsigned n_words);

/* Name of a syscall number on x86-64 ("getppid"), or NULL if unknown. */
DUNE_API const char *dune_syscall_name(long nr);
/* Syscall number of a name, or -1. */
DUNE_API long dune_syscall_number(const char *name);

#ifdef __cplusplus
}
#endif

#endif /* DUNE_TRACE_H */
