/* fuzz_exec.h - runs fuzz sequences in the calling process, natively or in
 * Dune mode alike, and records what each call gave: its result (pids and
 * addresses made comparable), a hash of the memory it wrote, the signals
 * delivered while it ran. The world (an arena of pages, a buffer with a guard
 * page, a read-only page, an unmapped hole) is made once, before the runs
 * fork, so that its addresses are the same in every run; each sequence then
 * starts from the same state (descriptors, handlers, mask, arena reset). */
#ifndef DUNE_FUZZ_EXEC_H
#define DUNE_FUZZ_EXEC_H

#include <stdint.h>

#include "fuzz_ops.h"

#define FUZZ_MAX_OPS 512

struct fuzz_result {
  int64_t ret;      /* the call's result (-errno), normalized where it names a pid or an address */
  uint64_t hash;    /* of the memory it wrote */
  uint32_t signals; /* handler runs while it ran */
  uint32_t last_signal;
};

/* One sequence's record, in memory shared with the parent. */
struct fuzz_outcome {
  volatile uint32_t started;  /* 1 once the sequence began */
  volatile uint32_t done;     /* ops finished */
  volatile uint32_t finished; /* 1 once it ended without ending the process */
  volatile int32_t probe_failed; /* DUNE_FUZZ_PROBE: after which op (1-based) a plain fork first failed; 0: never */
  struct fuzz_result r[FUZZ_MAX_OPS];
  uint32_t delivered[65]; /* handler runs by signal, at the end */
};

/* Runs ops (storm: a CPU-time timer signal fires throughout) into out. A call
 * may end the process (a signal whose default action kills). */
void fuzz_run(const struct fuzz_op *ops, uint32_t n, int storm, struct fuzz_outcome *out);

/* A diagnosis of where a process's forks start failing: a plain fork whose
 * child exits 0 at once, after each sequence (DUNE_FUZZ_PROBE=seq: 1) or
 * after each op (=op: 2, slow). */
extern int fuzz_probe;

#endif
