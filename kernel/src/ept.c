// SPDX-License-Identifier: GPL-2.0
/* ept.c - the EPT tree of one VM. Callers hold the VM's mmu_lock. */
#include <linux/gfp.h>
#include <linux/mm.h>

#include "ept.h"

#define EPT_ENTRIES 512
#define EPT_ADDR_MASK 0x000ffffffffff000ull
/* Non-leaf entries allow everything: the leaves decide. */
#define EPT_TABLE_FLAGS (DUNE_EPT_R | DUNE_EPT_W | DUNE_EPT_X)

static inline unsigned int ept_index(u64 gpa, int level)
{
	return (gpa >> (12 + 9 * level)) & (EPT_ENTRIES - 1);
}

static inline u64 *ept_table_of(u64 entry)
{
	return (u64 *)__va(entry & EPT_ADDR_MASK);
}

int dune_ept_cache_fill(struct dune_ept_cache *c)
{
	while (c->count < (int)ARRAY_SIZE(c->pages)) {
		u64 *p = (u64 *)get_zeroed_page(GFP_KERNEL_ACCOUNT);

		if (!p)
			return -ENOMEM;
		c->pages[c->count++] = p;
	}
	return 0;
}

void dune_ept_cache_free(struct dune_ept_cache *c)
{
	while (c->count > 0)
		free_page((unsigned long)c->pages[--c->count]);
}

int dune_ept_map(u64 *root, u64 gpa, u64 pfn, u64 flags, struct dune_ept_cache *c)
{
	u64 *table = root;
	int level;

	for (level = 3; level > 0; level--) {
		u64 *e = &table[ept_index(gpa, level)];

		if (!(*e & EPT_TABLE_FLAGS)) {
			if (c->count == 0)
				return -ENOMEM;
			*e = __pa(c->pages[--c->count]) | EPT_TABLE_FLAGS;
		}
		table = ept_table_of(*e);
	}
	WRITE_ONCE(table[ept_index(gpa, 0)], (pfn << PAGE_SHIFT) | flags);
	return 0;
}

static bool zap_level(u64 *table, int level, u64 base, u64 start, u64 end)
{
	u64 span = 1ull << (12 + 9 * level);
	bool any = false;
	unsigned int i;

	for (i = 0; i < EPT_ENTRIES; i++) {
		u64 lo = base + i * span, hi = lo + span;

		if (hi <= start || lo >= end || !table[i])
			continue;
		if (level == 0) {
			WRITE_ONCE(table[i], 0);
			any = true;
		} else {
			any |= zap_level(ept_table_of(table[i]), level - 1, lo, start, end);
		}
	}
	return any;
}

bool dune_ept_zap(u64 *root, u64 start, u64 end)
{
	return zap_level(root, 3, 0, start, end);
}

static void free_level(u64 *table, int level)
{
	unsigned int i;

	if (level > 0) {
		for (i = 0; i < EPT_ENTRIES; i++)
			if (table[i])
				free_level(ept_table_of(table[i]), level - 1);
	}
	free_page((unsigned long)table);
}

void dune_ept_free(u64 *root)
{
	if (root)
		free_level(root, 3);
}
