// SPDX-License-Identifier: GPL-2.0
/* dune_vm.c - a VM whose EPT mirrors its process's memory lazily, kept coherent by an MMU notifier. */
#include <linux/mm.h>
#include <linux/sched/mm.h>
#include <linux/sched/signal.h>
#include <linux/slab.h>
#include <linux/smp.h>
#include <asm/vmx.h>

#include "dune_vm.h"
#include "ept.h"
#include "vmx_hw.h"

/* EPT with four levels translates 48 bits; the guest's page tables reach the CPU's width. */
unsigned int dune_vm_phys_bits(void)
{
	return min_t(unsigned int, boot_cpu_data.x86_phys_bits, 48);
}

static void flush_on_cpu(void *eptp)
{
	dune_invept(*(u64 *)eptp);
}

/* Every CPU drops its cached translations; a CPU running the guest exits first (the IPI). */
static void flush_everywhere(struct dune_vm *vm)
{
	u64 eptp = vm->eptp;

	on_each_cpu(flush_on_cpu, &eptp, 1);
}

/* The used slot holding gpa, or NULL. Under mmu_lock. */
static struct dune_slot *find_slot(struct dune_vm *vm, u64 gpa)
{
	u32 lo = 0, hi = vm->used;

	while (lo < hi) {
		u32 mid = lo + (hi - lo) / 2;
		struct dune_slot *s = &vm->slots[vm->order[mid]];

		if (gpa < s->gpa)
			hi = mid;
		else if (gpa >= s->gpa + s->size)
			lo = mid + 1;
		else
			return s;
	}
	return NULL;
}

/* Zaps the guest-physical image of host range [start, end). Under mmu_lock. */
static bool zap_hva_range(struct dune_vm *vm, u64 start, u64 end)
{
	bool any = false;
	u32 i;

	for (i = 0; i < vm->used; i++) {
		struct dune_slot *s = &vm->slots[vm->order[i]];
		u64 lo = max(start, s->hva), hi = min(end, s->hva + s->size);

		if (lo < hi)
			any |= dune_ept_zap(vm->ept_root, s->gpa + (lo - s->hva), s->gpa + (hi - s->hva));
	}
	return any;
}

static int notifier_range_start(struct mmu_notifier *mn, const struct mmu_notifier_range *range)
{
	struct dune_vm *vm = container_of(mn, struct dune_vm, notifier);
	bool flush;

	spin_lock(&vm->mmu_lock);
	vm->mmu_in_progress++;
	flush = zap_hva_range(vm, range->start, range->end);
	spin_unlock(&vm->mmu_lock);
	if (flush)
		flush_everywhere(vm);
	return 0;
}

static void notifier_range_end(struct mmu_notifier *mn, const struct mmu_notifier_range *range)
{
	struct dune_vm *vm = container_of(mn, struct dune_vm, notifier);

	spin_lock(&vm->mmu_lock);
	vm->mmu_seq++;
	vm->mmu_in_progress--;
	spin_unlock(&vm->mmu_lock);
}

/* The address space is going away: nothing of it may stay reachable. */
static void notifier_release(struct mmu_notifier *mn, struct mm_struct *mm)
{
	struct dune_vm *vm = container_of(mn, struct dune_vm, notifier);

	spin_lock(&vm->mmu_lock);
	dune_ept_zap(vm->ept_root, 0, 1ull << 48);
	vm->mmu_seq++;
	spin_unlock(&vm->mmu_lock);
	flush_everywhere(vm);
}

static const struct mmu_notifier_ops notifier_ops = {
	.invalidate_range_start = notifier_range_start,
	.invalidate_range_end = notifier_range_end,
	.release = notifier_release,
};

struct dune_vm *dune_vm_create(void)
{
	struct dune_vm *vm;
	int r;

	if (!current->mm)
		return ERR_PTR(-EINVAL);
	vm = kzalloc(sizeof(*vm), GFP_KERNEL_ACCOUNT);
	if (!vm)
		return ERR_PTR(-ENOMEM);
	kref_init(&vm->ref);
	mutex_init(&vm->slots_lock);
	spin_lock_init(&vm->mmu_lock);
	vm->slots = kvcalloc(DUNE_MAX_SLOTS, sizeof(*vm->slots), GFP_KERNEL_ACCOUNT);
	vm->order = kvcalloc(DUNE_MAX_SLOTS, sizeof(*vm->order), GFP_KERNEL_ACCOUNT);
	vm->ept_root = (u64 *)get_zeroed_page(GFP_KERNEL_ACCOUNT);
	if (!vm->slots || !vm->order || !vm->ept_root) {
		r = -ENOMEM;
		goto fail;
	}
	vm->eptp = __pa(vm->ept_root) | VMX_EPTP_MT_WB | VMX_EPTP_PWL_4;
	vm->mm = current->mm;
	mmgrab(vm->mm);
	vm->notifier.ops = &notifier_ops;
	r = mmu_notifier_register(&vm->notifier, vm->mm);
	if (r) {
		mmdrop(vm->mm);
		vm->mm = NULL;
		goto fail;
	}
	vm->notifier_registered = true;
	return vm;
fail:
	if (vm->ept_root)
		free_page((unsigned long)vm->ept_root);
	kvfree(vm->order);
	kvfree(vm->slots);
	kfree(vm);
	return ERR_PTR(r);
}

void dune_vm_get(struct dune_vm *vm)
{
	kref_get(&vm->ref);
}

static void vm_release(struct kref *ref)
{
	struct dune_vm *vm = container_of(ref, struct dune_vm, ref);

	if (vm->notifier_registered)
		mmu_notifier_unregister(&vm->notifier, vm->mm);
	mmdrop(vm->mm);
	/* A later VM may get the same root page: no CPU may keep this one's translations. */
	flush_everywhere(vm);
	dune_ept_free(vm->ept_root);
	kvfree(vm->order);
	kvfree(vm->slots);
	kfree(vm);
}

void dune_vm_put(struct dune_vm *vm)
{
	kref_put(&vm->ref, vm_release);
}

static int check_region(const struct kvm_userspace_memory_region *r)
{
	u64 gpa = r->guest_phys_addr, size = r->memory_size, hva = r->userspace_addr;

	if (r->flags || r->slot >= DUNE_MAX_SLOTS)
		return -EINVAL;
	if (!size)
		return 0;
	if ((gpa | size | hva) & ~PAGE_MASK)
		return -EINVAL;
	if (size > (1ull << 47) || gpa + size < gpa || gpa + size > (1ull << dune_vm_phys_bits()))
		return -EINVAL;
	if (hva + size < hva || hva + size > TASK_SIZE_MAX)
		return -EINVAL;
	return 0;
}

static void order_remove(struct dune_vm *vm, u32 id)
{
	u32 i;

	for (i = 0; i < vm->used; i++) {
		if (vm->order[i] == id) {
			memmove(&vm->order[i], &vm->order[i + 1], (vm->used - i - 1) * sizeof(u32));
			vm->used--;
			return;
		}
	}
}

static void order_insert(struct dune_vm *vm, u32 id)
{
	u64 gpa = vm->slots[id].gpa;
	u32 i = 0;

	while (i < vm->used && vm->slots[vm->order[i]].gpa < gpa)
		i++;
	memmove(&vm->order[i + 1], &vm->order[i], (vm->used - i) * sizeof(u32));
	vm->order[i] = id;
	vm->used++;
}

static bool overlaps_other(struct dune_vm *vm, u32 id, u64 gpa, u64 size)
{
	u32 i;

	for (i = 0; i < vm->used; i++) {
		struct dune_slot *s = &vm->slots[vm->order[i]];

		if (vm->order[i] != id && gpa < s->gpa + s->size && s->gpa < gpa + size)
			return true;
	}
	return false;
}

int dune_vm_set_region(struct dune_vm *vm, const struct kvm_userspace_memory_region *r)
{
	struct dune_slot *s;
	bool flush = false;
	int err = check_region(r);

	if (err)
		return err;
	mutex_lock(&vm->slots_lock);
	spin_lock(&vm->mmu_lock);
	s = &vm->slots[r->slot];
	if (r->memory_size && overlaps_other(vm, r->slot, r->guest_phys_addr, r->memory_size)) {
		err = -EEXIST;
		goto out;
	}
	if (s->size) {
		flush = dune_ept_zap(vm->ept_root, s->gpa, s->gpa + s->size);
		order_remove(vm, r->slot);
		s->size = 0;
	}
	if (r->memory_size) {
		s->gpa = r->guest_phys_addr;
		s->size = r->memory_size;
		s->hva = r->userspace_addr;
		order_insert(vm, r->slot);
	}
	vm->mmu_seq++;
out:
	spin_unlock(&vm->mmu_lock);
	if (flush)
		flush_everywhere(vm);
	mutex_unlock(&vm->slots_lock);
	return err;
}

/* Memory a driver maps without struct pages behind it (the vDSO's data pages). */
static int resolve_pfnmap(struct mm_struct *mm, u64 hva, bool write, u64 *pfn, bool *writable)
{
	struct vm_area_struct *vma;
	spinlock_t *ptl;
	pte_t *ptep, pte;
	int tries, r = -EFAULT;

	mmap_read_lock(mm);
	for (tries = 0; tries < 3; tries++) {
		bool unlocked = false;

		vma = vma_lookup(mm, hva);
		if (!vma || !(vma->vm_flags & (VM_IO | VM_PFNMAP)) || !(vma->vm_flags & VM_READ) ||
		    (write && !(vma->vm_flags & VM_WRITE)))
			break;
		if (!follow_pte(mm, hva, &ptep, &ptl)) {
			pte = *ptep;
			pte_unmap_unlock(ptep, ptl);
			if (pte_present(pte) && (!write || pte_write(pte))) {
				*pfn = pte_pfn(pte);
				*writable = pte_write(pte);
				r = 0;
				break;
			}
		}
		r = fixup_user_fault(mm, hva, write ? FAULT_FLAG_WRITE : 0, &unlocked);
		if (r)
			break;
		r = -EFAULT;
	}
	mmap_read_unlock(mm);
	return r;
}

/* The host page behind hva, faulted in as a user access would (a stack grows). */
static int resolve(struct dune_vm *vm, u64 hva, bool write, u64 *pfn, u64 *flags, struct page **page)
{
	bool writable;
	long n;
	int r;

	*page = NULL;
	if (get_user_page_fast_only(hva, FOLL_WRITE, page)) {
		writable = true;
	} else if (!write && get_user_page_fast_only(hva, 0, page)) {
		writable = false;
	} else {
		n = get_user_pages_unlocked(hva, 1, page, write ? FOLL_WRITE : 0);
		if (n == 1) {
			writable = write;
		} else {
			*page = NULL;
			if (fatal_signal_pending(current))
				return -EINTR;
			r = resolve_pfnmap(vm->mm, hva, write, pfn, &writable);
			if (r)
				return fatal_signal_pending(current) ? -EINTR : -EFAULT;
			*flags = DUNE_EPT_R | DUNE_EPT_X | (writable ? DUNE_EPT_W : 0) |
				 (pfn_valid(*pfn) ? DUNE_EPT_MT_WB : DUNE_EPT_MT_UC);
			return 0;
		}
	}
	*pfn = page_to_pfn(*page);
	*flags = DUNE_EPT_R | DUNE_EPT_X | (writable ? DUNE_EPT_W : 0) | DUNE_EPT_MT_WB;
	return 0;
}

int dune_vm_ept_fault(struct dune_vm *vm, u64 gpa, u64 qualification, struct dune_ept_cache *cache,
		      struct dune_memory_fault *fault)
{
	bool write = qualification & EPT_VIOLATION_ACC_WRITE;
	bool exec = qualification & EPT_VIOLATION_ACC_INSTR;
	struct dune_slot *s;
	struct page *page;
	unsigned long seq;
	u64 hva, pfn, flags;
	int r;

	for (;;) {
		spin_lock(&vm->mmu_lock);
		s = find_slot(vm, gpa);
		if (!s) {
			spin_unlock(&vm->mmu_lock);
			goto refuse;
		}
		hva = s->hva + ((gpa & PAGE_MASK) - s->gpa);
		seq = vm->mmu_seq;
		spin_unlock(&vm->mmu_lock);
		smp_rmb();

		r = resolve(vm, hva, write, &pfn, &flags, &page);
		if (r == -EINTR)
			return r;
		if (r)
			goto refuse;
		r = dune_ept_cache_fill(cache);
		if (r) {
			if (page)
				put_page(page);
			return r;
		}
		spin_lock(&vm->mmu_lock);
		if (vm->mmu_in_progress || seq != vm->mmu_seq) {
			/* The host mapping changed while we looked: look again. */
			spin_unlock(&vm->mmu_lock);
			if (page)
				put_page(page);
			cond_resched();
			continue;
		}
		r = dune_ept_map(vm->ept_root, gpa & PAGE_MASK, pfn, flags, cache);
		spin_unlock(&vm->mmu_lock);
		/* No reference is kept: the notifier removes the entry before the page can go.
		 * Dirty now: writeback write-protects through the notifier, so a later
		 * write faults here again. */
		if (page) {
			if (flags & DUNE_EPT_W)
				set_page_dirty_lock(page);
			put_page(page);
		}
		return r;
	}
refuse:
	fault->flags = (write ? DUNE_MEMORY_FAULT_WRITE : 0) | (exec ? DUNE_MEMORY_FAULT_EXEC : 0);
	fault->gpa = gpa;
	fault->size = 1;
	return 1;
}
