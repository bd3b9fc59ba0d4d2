/*
 * smoke_guest.h - the guest both smoke tests run (kvm_smoke.c on /dev/kvm,
 * module_smoke.c on /dev/dune): 64 KiB of memory at guest-physical 0,
 * identity-mapped with 4 KiB pages, a flat GDT with a 64-bit code segment and
 * a 64-bit TSS, the code copied to CODE_GPA, and the special registers of
 * 64-bit ring 0 over it.
 */
#ifndef SMOKE_GUEST_H
#define SMOKE_GUEST_H

#include <errno.h>
#include <linux/kvm.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

/* Guest-physical layout of the single 64 KiB memslot at GPA 0. */
#define MEM_SIZE 0x10000
#define GDT_GPA 0x0000
#define PML4_GPA 0x1000
#define PDPT_GPA 0x2000
#define PD_GPA 0x3000
#define PT_GPA 0x4000
#define CODE_GPA 0x5000
#define TSS_GPA 0x6000
#define STACK_TOP 0x8000
#define DATA_GPA 0x9000

/* Page-table entry bits. */
#define PTE_P (1ull << 0)
#define PTE_W (1ull << 1)

/* Control-register and EFER bits. */
#define CR0_PE (1ull << 0)
#define CR0_MP (1ull << 1)
#define CR0_ET (1ull << 4)
#define CR0_NE (1ull << 5)
#define CR0_WP (1ull << 16)
#define CR0_PG (1ull << 31)
#define CR4_PAE (1ull << 5)
#define EFER_LME (1ull << 8)
#define EFER_LMA (1ull << 10)

#define SEL_CODE 0x08
#define SEL_DATA 0x10
#define SEL_TSS 0x18
#define GDT_ENTRIES 5 /* null, code, data, the TSS's two slots */

/* The program's name in its messages. */
extern const char *smoke_name;

static inline int fail(const char *what)
{
	printf("%s: FAIL: %s: %s\n", smoke_name, what, strerror(errno));
	return 1;
}

/* Segment register contents matching a flat GDT descriptor. */
static inline void flat_segment(struct kvm_segment *s, uint16_t sel, int code)
{
	memset(s, 0, sizeof(*s));
	s->base = 0;
	s->limit = 0xffffffff;
	s->selector = sel;
	s->type = code ? 0xb : 0x3; /* execute/read or read/write, accessed */
	s->present = 1;
	s->dpl = 0;
	s->s = 1;	  /* code/data, not system */
	s->l = code;	  /* 64-bit code segment */
	s->db = !code;	  /* D must be 0 when L is 1 */
	s->g = 1;
}

/* Writes the GDT, the page tables and the code into the guest's memory. */
static inline void smoke_build_guest(uint8_t *mem, const uint8_t *code, size_t code_len)
{
	uint64_t *gdt = (uint64_t *)(mem + GDT_GPA);
	gdt[0] = 0;
	gdt[1] = 0x00af9b000000ffffull; /* P, DPL0, S, type 0xb, G, L */
	gdt[2] = 0x00cf93000000ffffull; /* P, DPL0, S, type 0x3, G, D/B */
	gdt[3] = 0x00008b0000000067ull | ((uint64_t)TSS_GPA << 16); /* busy 64-bit TSS */
	gdt[4] = 0;

	uint64_t *pml4 = (uint64_t *)(mem + PML4_GPA);
	uint64_t *pdpt = (uint64_t *)(mem + PDPT_GPA);
	uint64_t *pd = (uint64_t *)(mem + PD_GPA);
	uint64_t *pt = (uint64_t *)(mem + PT_GPA);
	pml4[0] = PDPT_GPA | PTE_P | PTE_W;
	pdpt[0] = PD_GPA | PTE_P | PTE_W;
	pd[0] = PT_GPA | PTE_P | PTE_W;
	for (uint64_t i = 0; i < MEM_SIZE / 0x1000; i++)
		pt[i] = (i * 0x1000) | PTE_P | PTE_W;
	memcpy(mem + CODE_GPA, code, code_len);
}

/*
 * 64-bit ring 0 on that GDT and those tables. The task register is left as the
 * caller had it (KVM's reset state holds a valid one) unless with_tss.
 */
static inline void smoke_long_mode(struct kvm_sregs *sregs, int with_tss)
{
	flat_segment(&sregs->cs, SEL_CODE, 1);
	flat_segment(&sregs->ds, SEL_DATA, 0);
	sregs->es = sregs->fs = sregs->gs = sregs->ss = sregs->ds;
	if (with_tss) {
		memset(&sregs->tr, 0, sizeof(sregs->tr));
		sregs->tr.selector = SEL_TSS;
		sregs->tr.base = TSS_GPA;
		sregs->tr.limit = 0x67;
		sregs->tr.type = 11;
		sregs->tr.present = 1;
		memset(&sregs->ldt, 0, sizeof(sregs->ldt));
		sregs->ldt.unusable = 1;
	}
	sregs->gdt.base = GDT_GPA;
	sregs->gdt.limit = GDT_ENTRIES * 8 - 1;
	sregs->cr3 = PML4_GPA;
	sregs->cr4 = CR4_PAE;
	sregs->cr0 = CR0_PE | CR0_MP | CR0_ET | CR0_NE | CR0_WP | CR0_PG;
	sregs->efer = EFER_LME | EFER_LMA;
}

#endif
