/*
 * module_smoke: the smallest useful check that /dev/dune (kernel/dune.ko) runs a 64-bit guest.
 *
 * Build: gcc -static -O2 -Ikernel/include/uapi -o module_smoke kernel/tests/module_smoke.c
 *
 * One VM, one vCPU in 64-bit ring 0 on identity-mapped pages, running
 *     mov $42,%al; out %al,$0x10     -> an I/O exit, RIP skipped at the next run
 *     cpuid (leaf 1); mov %ecx,(0x9000); out %al,$0x11  -> CPUID handled in the
 *         kernel, a first store into an untouched page (an EPT fault resolved
 *         against the process's page tables), then an I/O exit
 *     hlt                            -> KVM_EXIT_HLT
 * and checks the memory and registers the host sees. Prints "module_smoke: ok".
 */
#include <errno.h>
#include <fcntl.h>
#include "dune_abi.h"
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

/* Guest-physical layout of the single 64 KiB memslot at GPA 0. */
#define MEM_SIZE 0x10000
#define DATA_GPA 0x9000
#define TSS_GPA 0x6000
#define GDT_GPA 0x0000
#define PML4_GPA 0x1000
#define PDPT_GPA 0x2000
#define PD_GPA 0x3000
#define PT_GPA 0x4000
#define CODE_GPA 0x5000
#define STACK_TOP 0x8000

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

static int fail(const char *what)
{
	printf("module_smoke: FAIL: %s: %s\n", what, strerror(errno));
	return 1;
}

/* Segment register contents matching a flat GDT descriptor. */
static void flat_segment(struct kvm_segment *s, uint16_t sel, int code)
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

static int expect_io(struct kvm_run *run, uint16_t port, uint8_t value)
{
	const uint8_t *data = (const uint8_t *)run + run->io.data_offset;

	if (run->exit_reason != KVM_EXIT_IO || run->io.direction != KVM_EXIT_IO_OUT ||
	    run->io.port != port || data[0] != value) {
		printf("module_smoke: FAIL: want out 0x%x to port 0x%x, got exit %u port 0x%x data %u "
		       "(fail_entry 0x%llx, internal %u)\n", value, port, run->exit_reason, run->io.port,
		       data[0], (unsigned long long)run->fail_entry.hardware_entry_failure_reason,
		       run->internal.suberror);
		return 1;
	}
	return 0;
}

int main(void)
{
	setvbuf(stdout, NULL, _IONBF, 0);
	int vm = open(DUNE_DEVICE_PATH, O_RDWR | O_CLOEXEC);
	if (vm < 0)
		return fail("open /dev/dune");
	if (ioctl(vm, DUNE_GET_ABI_VERSION, 0) != DUNE_ABI_VERSION)
		return fail("DUNE_GET_ABI_VERSION");
	struct dune_info info;
	if (ioctl(vm, DUNE_GET_INFO, &info) < 0)
		return fail("DUNE_GET_INFO");
	printf("module_smoke: max_slots %u run_size %u xsave %u xcr0 %#llx phys_bits %u\n", info.max_slots,
	       info.run_size, info.xsave_size, (unsigned long long)info.host_xcr0, info.phys_bits);

	uint8_t *mem = mmap(NULL, MEM_SIZE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (mem == MAP_FAILED)
		return fail("mmap guest memory");
	struct kvm_userspace_memory_region region = {
		.slot = 0, .guest_phys_addr = 0, .memory_size = MEM_SIZE,
		.userspace_addr = (uint64_t)(uintptr_t)mem,
	};
	if (ioctl(vm, DUNE_SET_REGION, &region) < 0)
		return fail("DUNE_SET_REGION");

	uint64_t *gdt = (uint64_t *)(mem + GDT_GPA);
	gdt[0] = 0;
	gdt[1] = 0x00af9b000000ffffull;
	gdt[2] = 0x00cf93000000ffffull;
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
	/* mov $42,%al; out %al,$0x10; mov $1,%eax; xor %ecx,%ecx; cpuid; mov %ecx,(0x9000);
	 * mov $7,%al; out %al,$0x11; hlt */
	static const uint8_t code[] = { 0xb0, 0x2a, 0xe6, 0x10, 0xb8, 0x01, 0x00, 0x00, 0x00, 0x31, 0xc9,
					0x0f, 0xa2, 0x89, 0x0c, 0x25, 0x00, 0x90, 0x00, 0x00, 0xb0, 0x07,
					0xe6, 0x11, 0xf4 };
	memcpy(mem + CODE_GPA, code, sizeof(code));

	int vcpu = ioctl(vm, DUNE_CREATE_VCPU, 0);
	if (vcpu < 0)
		return fail("DUNE_CREATE_VCPU");
	struct kvm_run *run = mmap(NULL, info.run_size, PROT_READ | PROT_WRITE, MAP_SHARED, vcpu, 0);
	if (run == MAP_FAILED)
		return fail("mmap run page");

	struct kvm_sregs sregs;
	memset(&sregs, 0, sizeof(sregs));
	flat_segment(&sregs.cs, SEL_CODE, 1);
	flat_segment(&sregs.ds, SEL_DATA, 0);
	sregs.es = sregs.fs = sregs.gs = sregs.ss = sregs.ds;
	sregs.tr.selector = 0x18;
	sregs.tr.base = TSS_GPA;
	sregs.tr.limit = 0x67;
	sregs.tr.type = 11;
	sregs.tr.present = 1;
	sregs.ldt.unusable = 1;
	sregs.gdt.base = GDT_GPA;
	sregs.gdt.limit = 5 * 8 - 1;
	sregs.cr3 = PML4_GPA;
	sregs.cr4 = CR4_PAE;
	sregs.cr0 = CR0_PE | CR0_MP | CR0_ET | CR0_NE | CR0_WP | CR0_PG;
	sregs.efer = EFER_LME | EFER_LMA;
	if (ioctl(vcpu, DUNE_SET_SREGS, &sregs) < 0)
		return fail("DUNE_SET_SREGS");
	struct kvm_regs regs;
	memset(&regs, 0, sizeof(regs));
	regs.rip = CODE_GPA;
	regs.rsp = STACK_TOP;
	regs.rflags = 0x2;
	if (ioctl(vcpu, DUNE_SET_REGS, &regs) < 0)
		return fail("DUNE_SET_REGS");

	if (ioctl(vcpu, DUNE_RUN, 0) < 0)
		return fail("DUNE_RUN 1");
	if (expect_io(run, 0x10, 42))
		return 1;
	if (ioctl(vcpu, DUNE_RUN, 0) < 0)
		return fail("DUNE_RUN 2");
	if (expect_io(run, 0x11, 7))
		return 1;
	uint32_t ecx = *(volatile uint32_t *)(mem + DATA_GPA);
	if (ecx == 0 || (ecx & (1u << 5))) {
		printf("module_smoke: FAIL: cpuid leaf 1 ecx as the guest stored it: %#x\n", ecx);
		return 1;
	}
	if (ioctl(vcpu, DUNE_RUN, 0) < 0)
		return fail("DUNE_RUN 3");
	if (run->exit_reason != KVM_EXIT_HLT) {
		printf("module_smoke: FAIL: want hlt exit, got %u\n", run->exit_reason);
		return 1;
	}
	if (ioctl(vcpu, DUNE_GET_REGS, &regs) < 0)
		return fail("DUNE_GET_REGS");
	if (regs.rip != CODE_GPA + sizeof(code)) {
		printf("module_smoke: FAIL: rip %#llx after hlt\n", (unsigned long long)regs.rip);
		return 1;
	}
	printf("module_smoke: ok\n");
	return 0;
}
