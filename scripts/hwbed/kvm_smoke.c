/*
 * kvm_smoke: the smallest useful check that /dev/kvm can run a 64-bit guest.
 *
 * Build: gcc -static -O2 -o kvm_smoke scripts/hwbed/kvm_smoke.c
 *
 * It creates a VM with one vCPU, puts it straight into 64-bit long mode at
 * ring 0 (identity-mapped 4 KiB pages, a GDT with a 64-bit code segment) and
 * runs three instructions:
 *
 *     mov $42, %al ; out %al, $0x10 ; hlt
 *
 * The first KVM_RUN must come back with KVM_EXIT_IO, an 8-bit write of 42 to
 * port 0x10. Prints "kvm_smoke: ok" and exits 0, or says what went wrong and
 * exits 1. Used by scripts/hwbed/run.sh to prove the Bochs test bed works
 * (kvm_intel with EPT there), and runs on the PVM host as well.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/kvm.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

/* Guest-physical layout of the single 64 KiB memslot at GPA 0. */
#define MEM_SIZE 0x10000
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
	printf("kvm_smoke: FAIL: %s: %s\n", what, strerror(errno));
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

int main(void)
{
	setvbuf(stdout, NULL, _IONBF, 0);

	int kvm = open("/dev/kvm", O_RDWR | O_CLOEXEC);
	if (kvm < 0)
		return fail("open /dev/kvm");

	int api = ioctl(kvm, KVM_GET_API_VERSION, 0);
	if (api != 12) {
		printf("kvm_smoke: FAIL: KVM_GET_API_VERSION = %d, want 12\n", api);
		return 1;
	}

	int vm = ioctl(kvm, KVM_CREATE_VM, 0);
	if (vm < 0)
		return fail("KVM_CREATE_VM");

	/* Guest memory: anonymous host memory registered as slot 0 at GPA 0. */
	uint8_t *mem = mmap(NULL, MEM_SIZE, PROT_READ | PROT_WRITE,
			    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (mem == MAP_FAILED)
		return fail("mmap guest memory");
	struct kvm_userspace_memory_region region = {
		.slot = 0,
		.guest_phys_addr = 0,
		.memory_size = MEM_SIZE,
		.userspace_addr = (uint64_t)(uintptr_t)mem,
	};
	if (ioctl(vm, KVM_SET_USER_MEMORY_REGION, &region) < 0)
		return fail("KVM_SET_USER_MEMORY_REGION");

	/*
	 * GDT: null, 64-bit code (0x08), data (0x10). The descriptors are not
	 * loaded by the guest (KVM_SET_SREGS sets the hidden parts) but are kept
	 * consistent with them.
	 */
	uint64_t *gdt = (uint64_t *)(mem + GDT_GPA);
	gdt[0] = 0;
	gdt[1] = 0x00af9b000000ffffull; /* P, DPL0, S, type 0xb, G, L */
	gdt[2] = 0x00cf93000000ffffull; /* P, DPL0, S, type 0x3, G, D/B */

	/* Page tables identity-mapping the 16 pages of the memslot. */
	uint64_t *pml4 = (uint64_t *)(mem + PML4_GPA);
	uint64_t *pdpt = (uint64_t *)(mem + PDPT_GPA);
	uint64_t *pd = (uint64_t *)(mem + PD_GPA);
	uint64_t *pt = (uint64_t *)(mem + PT_GPA);
	pml4[0] = PDPT_GPA | PTE_P | PTE_W;
	pdpt[0] = PD_GPA | PTE_P | PTE_W;
	pd[0] = PT_GPA | PTE_P | PTE_W;
	for (uint64_t i = 0; i < MEM_SIZE / 0x1000; i++)
		pt[i] = (i * 0x1000) | PTE_P | PTE_W;

	/* mov $42,%al ; out %al,$0x10 ; hlt */
	static const uint8_t code[] = { 0xb0, 0x2a, 0xe6, 0x10, 0xf4 };
	memcpy(mem + CODE_GPA, code, sizeof(code));

	int vcpu = ioctl(vm, KVM_CREATE_VCPU, 0);
	if (vcpu < 0)
		return fail("KVM_CREATE_VCPU");
	int run_size = ioctl(kvm, KVM_GET_VCPU_MMAP_SIZE, 0);
	if (run_size < (int)sizeof(struct kvm_run))
		return fail("KVM_GET_VCPU_MMAP_SIZE");
	struct kvm_run *run = mmap(NULL, run_size, PROT_READ | PROT_WRITE,
				   MAP_SHARED, vcpu, 0);
	if (run == MAP_FAILED)
		return fail("mmap kvm_run");

	/*
	 * Special registers: start from the reset state (which keeps a valid
	 * TR and LDTR, as VM entry on VT-x requires) and switch to long mode.
	 */
	struct kvm_sregs sregs;
	if (ioctl(vcpu, KVM_GET_SREGS, &sregs) < 0)
		return fail("KVM_GET_SREGS");
	flat_segment(&sregs.cs, SEL_CODE, 1);
	flat_segment(&sregs.ds, SEL_DATA, 0);
	sregs.es = sregs.fs = sregs.gs = sregs.ss = sregs.ds;
	sregs.gdt.base = GDT_GPA;
	sregs.gdt.limit = 3 * 8 - 1;
	sregs.cr3 = PML4_GPA;
	sregs.cr4 = CR4_PAE;
	sregs.cr0 = CR0_PE | CR0_MP | CR0_ET | CR0_NE | CR0_WP | CR0_PG;
	sregs.efer = EFER_LME | EFER_LMA;
	if (ioctl(vcpu, KVM_SET_SREGS, &sregs) < 0)
		return fail("KVM_SET_SREGS");

	struct kvm_regs regs;
	memset(&regs, 0, sizeof(regs));
	regs.rip = CODE_GPA;
	regs.rsp = STACK_TOP;
	regs.rflags = 0x2; /* bit 1 is always set */
	if (ioctl(vcpu, KVM_SET_REGS, &regs) < 0)
		return fail("KVM_SET_REGS");

	if (ioctl(vcpu, KVM_RUN, 0) < 0)
		return fail("KVM_RUN");

	switch (run->exit_reason) {
	case KVM_EXIT_IO: {
		const uint8_t *data = (const uint8_t *)run + run->io.data_offset;
		if (run->io.direction != KVM_EXIT_IO_OUT || run->io.port != 0x10 ||
		    run->io.size != 1 || run->io.count != 1 || data[0] != 42) {
			printf("kvm_smoke: FAIL: unexpected I/O exit: dir=%u port=0x%x "
			       "size=%u count=%u data=%u\n",
			       run->io.direction, run->io.port, run->io.size,
			       run->io.count, data[0]);
			return 1;
		}
		printf("kvm_smoke: ok\n");
		return 0;
	}
	case KVM_EXIT_FAIL_ENTRY:
		printf("kvm_smoke: FAIL: VM entry failed, hardware reason 0x%llx\n",
		       (unsigned long long)run->fail_entry.hardware_entry_failure_reason);
		return 1;
	case KVM_EXIT_INTERNAL_ERROR:
		printf("kvm_smoke: FAIL: KVM internal error, suberror %u\n",
		       run->internal.suberror);
		return 1;
	default:
		/* e.g. KVM_EXIT_SHUTDOWN (8) after a triple fault */
		if (ioctl(vcpu, KVM_GET_REGS, &regs) == 0)
			printf("kvm_smoke: FAIL: exit reason %u at rip=0x%llx\n",
			       run->exit_reason, (unsigned long long)regs.rip);
		else
			printf("kvm_smoke: FAIL: exit reason %u\n", run->exit_reason);
		return 1;
	}
}
