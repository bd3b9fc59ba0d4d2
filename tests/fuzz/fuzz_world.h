/* fuzz_world.h - what the fuzzer's calls work on: memory made once before the
 * runs fork (so at the same addresses in each), descriptors made anew for each
 * sequence, and the choices that turn a number into an argument. */
#ifndef DUNE_FUZZ_WORLD_H
#define DUNE_FUZZ_WORLD_H

#include <signal.h>
#include <stddef.h>
#include <stdint.h>

#define FUZZ_PAGE 4096u
#define FUZZ_ARENA_PAGES 32u /* where mmap, munmap, mprotect, madvise, mremap and touch work */
#define FUZZ_ARENA_GUARD 8u  /* reserved after it, never touched */
#define FUZZ_BUF 65536u      /* a buffer, a PROT_NONE page after it */

struct fuzz_world {
  uint8_t *arena;
  uint8_t *buf;
  uint8_t *ro;   /* a read-only page */
  uint8_t *none; /* a PROT_NONE page (the buffer's guard) */
  uint8_t *hole; /* an address with nothing mapped */
  int fds[6];    /* pipe read, pipe write, memfd, /dev/null, and two made by ops */
  int trace_fd;  /* DUNE_FUZZ_TRACE=1: each op is written here before it runs (-1: not) */
};
extern struct fuzz_world fz;

/* Makes the world; once, before the runs fork. Returns 0 or -errno. */
int fuzz_world_init(void);

/* rt_sigreturn, for raw rt_sigaction's sa_restorer. */
void fuzz_restorer(void);

/* The state every sequence starts from: handler on every signal but the
 * fault ones (fault_handler) and storm_signal (left alone). */
void fuzz_world_reset(void (*fault_handler)(int, siginfo_t *, void *), void (*handler)(int), int storm_signal);

/* Choices into arguments. */
int fuzz_fd(uint32_t c);
int fuzz_limit_fd(uint32_t k); /* the program's soft limit + k (k < 3), or 15000 + k - 3 */
uint8_t *fuzz_arena_page(uint32_t c);
uint64_t fuzz_pointer(uint32_t c, uint32_t page); /* a buffer, NULL, unmapped, read-only, ... */
uint64_t fuzz_length(uint32_t c);
uint64_t fuzz_hash(const void *p, size_t n, uint64_t h);

#endif
