/* SPDX-License-Identifier: GPL-2.0 */
/* ept.h - a 4-level EPT tree: map one 4 KiB page, drop a range, free it all. */
#ifndef DUNE_EPT_H
#define DUNE_EPT_H

#include <linux/types.h>

#define DUNE_EPT_R (1ull << 0)
#define DUNE_EPT_W (1ull << 1)
#define DUNE_EPT_X (1ull << 2)
#define DUNE_EPT_MT_WB (6ull << 3)
#define DUNE_EPT_MT_UC (0ull << 3)

/* Zeroed table pages allocated before taking the VM's spinlock (a walk needs at most 3);
 * what a map does not use stays for the next one. */
struct dune_ept_cache {
	int count;
	u64 *pages[3];
};

int dune_ept_cache_fill(struct dune_ept_cache *c);
void dune_ept_cache_free(struct dune_ept_cache *c);

/* Installs gpa -> pfn with `flags` (R/W/X and a memory type). */
int dune_ept_map(u64 *root, u64 gpa, u64 pfn, u64 flags, struct dune_ept_cache *c);
/* Clears every leaf in [start, end); true if one was present. */
bool dune_ept_zap(u64 *root, u64 start, u64 end);
void dune_ept_free(u64 *root);

#endif
