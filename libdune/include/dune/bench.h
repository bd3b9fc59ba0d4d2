/* bench.h - measurements libdune offers to benchmarks and dunestat. */
#ifndef DUNE_BENCH_H
#define DUNE_BENCH_H

#include <dune/dune.h>

#ifdef __cplusplus
extern "C" {
#endif

/* The VM exit floor: the cheapest round trip a forwarded syscall can take on
 * this host. A minimal VM of its own (no libdune runtime, no address-space
 * mirror) runs a ring-3 loop of `syscall`; the landing stub leaves the VM with
 * `out`, the host only resumes it. Fills samples[0..n) with the TSC cycles of
 * n consecutive round trips. Call it outside Dune mode. 0 or -errno. */
DUNE_API int dune_bench_exit_floor(uint64_t *samples, size_t n);

#ifdef __cplusplus
}
#endif

#endif /* DUNE_BENCH_H */
