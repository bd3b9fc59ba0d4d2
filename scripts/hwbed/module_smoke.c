/*
 * module_smoke: the smallest useful check that /dev/dune (kernel/dune.ko) runs a 64-bit guest.
 *
 * Build: gcc -static -O2 -Ikernel/include/uapi -o module_smoke scripts/hwbed/module_smoke.c
 *
 * One VM, one vCPU in 64-bit ring 0 on identity-mapped pages, running
 *     mov $42,%al; out %al,$0x10     -> an I/O exit, RIP skipped at the next run
 *     cpuid (leaf 1); mov %ecx,(0x9000); out %al,$0x11  -> CPUID handled in the
 *         kernel, a first store into an untouched page (an EPT fault resolved
 *         against the process's page tables), then an I/O exit
 *     hlt                            -> KVM_EXIT_HLT
 * and checks the memory and registers the host sees. Prints "module_smoke: ok".
 */
#include <fcntl.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

#include "dune_abi.h"
#include "smoke_guest.h"

const char *smoke_name = "module_smoke";

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

	/* mov $42,%al; out %al,$0x10; mov $1,%eax; xor %ecx,%ecx; cpuid; mov %ecx,(0x9000);
	 * mov $7,%al; out %al,$0x11; hlt */
	static const uint8_t code[] = { 0xb0, 0x2a, 0xe6, 0x10, 0xb8, 0x01, 0x00, 0x00, 0x00, 0x31, 0xc9,
					0x0f, 0xa2, 0x89, 0x0c, 0x25, 0x00, 0x90, 0x00, 0x00, 0xb0, 0x07,
					0xe6, 0x11, 0xf4 };
	smoke_build_guest(mem, code, sizeof(code));

	int vcpu = ioctl(vm, DUNE_CREATE_VCPU, 0);
	if (vcpu < 0)
		return fail("DUNE_CREATE_VCPU");
	struct kvm_run *run = mmap(NULL, info.run_size, PROT_READ | PROT_WRITE, MAP_SHARED, vcpu, 0);
	if (run == MAP_FAILED)
		return fail("mmap run page");

	struct kvm_sregs sregs;
	memset(&sregs, 0, sizeof(sregs));
	smoke_long_mode(&sregs, 1);
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
