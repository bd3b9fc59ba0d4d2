/* SPDX-License-Identifier: GPL-2.0 */
/* dune_vm.h - one VM: the process it mirrors, its slots, its EPT tree. */
#ifndef DUNE_VM_H
#define DUNE_VM_H

#include <linux/kref.h>
#include <linux/mmu_notifier.h>
#include <linux/mutex.h>
#include <linux/spinlock.h>
#include <linux/types.h>

#include "dune_abi.h"
#include "ept.h"

#define DUNE_MAX_SLOTS 32768

struct dune_slot {
	u64 gpa, size, hva;
};

struct dune_vm {
	struct kref ref;
	struct mm_struct *mm; /* grabbed: the address space the EPT mirrors */
	struct mmu_notifier notifier;
	bool notifier_registered;

	struct mutex slots_lock; /* one slot change at a time */
	/*
	 * mmu_lock guards the slot table, the EPT tree, mmu_seq and
	 * mmu_in_progress. A fault records mmu_seq, resolves the page without
	 * the lock, and installs it only if no invalidation ran meanwhile.
	 */
	spinlock_t mmu_lock;
	struct dune_slot *slots; /* indexed by slot id; size 0 = free */
	u32 *order;		 /* ids of used slots, sorted by gpa */
	u32 used;
	unsigned long mmu_seq;
	long mmu_in_progress;
	u64 *ept_root;
	u64 eptp;

	/* DUNE_SET_SYSCALL_FASTPATH: read without a lock by running vCPUs. */
	u16 fast_port;
	u64 fast_syscalls;
};

struct dune_vm *dune_vm_create(void);
void dune_vm_get(struct dune_vm *vm);
void dune_vm_put(struct dune_vm *vm);

int dune_vm_set_region(struct dune_vm *vm, const struct kvm_userspace_memory_region *r);

/*
 * Resolves an EPT violation: 0 mapped, 1 refused (*fault filled), -EINTR a fatal
 * signal. New table pages come from the caller's cache, topped up here and kept
 * between faults.
 */
int dune_vm_ept_fault(struct dune_vm *vm, u64 gpa, u64 qualification, struct dune_ept_cache *cache,
		      struct dune_memory_fault *fault);

/* The guest-physical width the EPT and the guest's page tables can address. */
unsigned int dune_vm_phys_bits(void);

#endif
