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
#include <fcntl.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

#include "smoke_guest.h"

const char *smoke_name = "kvm_smoke";

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

	/* mov $42,%al ; out %al,$0x10 ; hlt */
	static const uint8_t code[] = { 0xb0, 0x2a, 0xe6, 0x10, 0xf4 };
	smoke_build_guest(mem, code, sizeof(code));

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
	smoke_long_mode(&sregs, 0);
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
