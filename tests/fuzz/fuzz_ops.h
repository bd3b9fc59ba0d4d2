/* fuzz_ops.h - the differential fuzzer's vocabulary: a sequence of syscall
 * operations, each a kind and six choices that the executor (fuzz_exec.c)
 * turns into arguments within the process's fuzzing world (an arena of pages,
 * pipes, descriptors valid and not, signal sets). The same sequence gives the
 * same syscalls natively and in Dune mode; a seed gives the same sequence
 * everywhere. Sequences are written and read as text, one op per line:
 * "write 1 3 4 0 0 0". */
#ifndef DUNE_FUZZ_OPS_H
#define DUNE_FUZZ_OPS_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

enum fuzz_kind {
  FZ_WRITE,       /* write(fd, buf, len) */
  FZ_READ,        /* read(fd, buf, len) */
  FZ_MMAP,        /* mmap(arena page, pages, prot, MAP_FIXED | flags, -1, 0) */
  FZ_MUNMAP,      /* munmap(arena page, pages) */
  FZ_MPROTECT,    /* mprotect(arena page, pages, prot) */
  FZ_MADVISE,     /* madvise(arena page, pages, advice) */
  FZ_MREMAP,      /* mremap(arena page, pages, new pages, flags, arena page) */
  FZ_TOUCH,       /* a load or store in the arena (a fault is a signal) */
  FZ_SIGPROCMASK, /* rt_sigprocmask(how, set, oldset, size) */
  FZ_SIGACTION,   /* rt_sigaction(sig, act, oldact, size) */
  FZ_KILL,        /* kill(self, sig) / tgkill */
  FZ_FSTAT,       /* fstat(fd, buf) */
  FZ_CLOSE,       /* close(fd) */
  FZ_DUP,         /* dup / dup2 / dup3 / fcntl(F_DUPFD) */
  FZ_LSEEK,       /* lseek(fd, off, whence) */
  FZ_POLL,        /* poll(fds, n, 0) */
  FZ_CLONE,       /* clone(flags): a child that exits at once, waited for */
  FZ_WAIT,        /* wait4(-1, status, WNOHANG) */
  FZ_IDS,         /* getpid/getppid/gettid against the process's own */
  FZ_PIPE,        /* pipe2(fds, flags) */
  FZ_KINDS
};

struct fuzz_op {
  uint8_t kind;
  uint32_t c[6];
};

const char *fuzz_kind_name(int kind);
int fuzz_kind_of(const char *name); /* -1 if unknown */

/* The next value of a splitmix64 stream. */
uint64_t fuzz_next(uint64_t *state);

/* The first n ops of the sequence seed names. */
void fuzz_generate(uint64_t seed, struct fuzz_op *out, size_t n);

/* Text: one op per line. fuzz_read_ops returns the number read, or -1 (with a
 * message) on a line that is not an op. */
void fuzz_write_ops(FILE *f, const struct fuzz_op *ops, size_t n);
long fuzz_read_ops(FILE *f, struct fuzz_op *out, size_t max);

#endif
