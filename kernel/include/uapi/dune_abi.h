/* SPDX-License-Identifier: GPL-2.0 WITH Linux-syscall-note */
/*
 * dune_abi.h - the ioctl interface of /dev/dune (kernel/dune.ko), version 1.
 *
 * Shared by the module and libdune. The register, segment, MSR, XSAVE and
 * memory-region structures are KVM's (linux/kvm.h) so that one user-space VM
 * layer drives both backends; the ioctl numbers, the object model and the
 * guarantees below are Dune's own.
 *
 * Objects
 *   open("/dev/dune", O_RDWR | O_CLOEXEC) creates one VM bound to the calling
 *   process's address space (its mm). Every ioctl on the VM or on one of its
 *   vCPUs must come from a task using that address space (its threads, a
 *   vfork child): a forked child, with an address space of its own, gets
 *   -EIO and opens its own VM. Closing the descriptor ends that VM only (its
 *   vCPUs live until their own descriptors are closed); other processes' VMs
 *   are untouched. DUNE_CREATE_VCPU takes a vCPU id chosen by user space
 *   (0 .. DUNE_MAX_VCPU_ID, not checked for uniqueness, only reported back in
 *   nothing: it exists so that the call reads like KVM's).
 *
 * Guest-physical memory
 *   DUNE_SET_REGION says which guest-physical range stands for which range of
 *   the process's virtual addresses (struct kvm_userspace_memory_region; size 0
 *   deletes a slot). Nothing is mapped eagerly: an EPT violation resolves the
 *   page against the process's own page tables at that moment (faulting it in,
 *   growing a stack VMA as a user access would), and an MMU notifier drops EPT
 *   entries whenever the host mapping changes (munmap, mprotect, COW, reclaim).
 *   An access the host would refuse ends DUNE_RUN with -EFAULT and exit_reason
 *   DUNE_RUN_EXIT_MEMORY_FAULT, RIP still at the instruction.
 *
 * The run page
 *   mmap(vcpu_fd, info.run_size, PROT_READ | PROT_WRITE, MAP_SHARED, 0) maps a
 *   struct kvm_run. The module reads immediate_exit, kvm_valid_regs and
 *   kvm_dirty_regs (only KVM_SYNC_X86_REGS: s.regs.regs; DUNE_RUN applies
 *   dirty registers first and then clears that bit, as KVM does) and writes
 *   exit_reason and, per reason, io (data at io.data_offset in the page),
 *   memory fault (struct dune_memory_fault at the offset of kvm_run.mmio),
 *   fail_entry and internal.suberror.
 *
 * Exits (DUNE_RUN returns 0 unless noted)
 *   KVM_EXIT_IO           `in`/`out` (string I/O is an internal error). RIP is
 *                         left at the instruction and skipped at the next
 *                         DUNE_RUN if user space did not change RIP (as KVM on
 *                         VT-x); an `in` takes its data from the run page then.
 *   KVM_EXIT_HLT          RIP past the `hlt`.
 *   KVM_EXIT_SHUTDOWN     triple fault.
 *   KVM_EXIT_FAIL_ENTRY   the CPU refused the guest state (the VMX reason).
 *   KVM_EXIT_INTERNAL_ERROR an exit the module does not handle.
 *   KVM_EXIT_INTR         with -EINTR: a signal is pending for the thread
 *                         (also when immediate_exit is set); user space
 *                         delivers it and runs again.
 *   DUNE_RUN_EXIT_MEMORY_FAULT with -EFAULT, see above.
 *   Everything else (external interrupts, NMIs, CPUID, EPT faults the host
 *   can satisfy) is handled in the kernel without returning.
 *
 * Guest state
 *   64-bit mode only: SET_SREGS checks CR0.PE|PG, CR4.PAE and EFER.LME|LMA.
 *   MSRs through GET/SET_MSRS: FS_BASE, GS_BASE, KERNEL_GS_BASE, STAR, LSTAR,
 *   CSTAR, SYSCALL_MASK, PAT, and TSC_AUX (accepted and ignored: the guest
 *   reads the host CPU's value, as the vDSO expects). Guest RDMSR/WRMSR,
 *   VMX instructions, XSETBV and writes to CR0/CR4 raise #GP or #UD in the
 *   guest. The guest TSC is the host TSC. XCR0 (SET_XCRS) must be a subset of
 *   the host's with x87 set. The FPU/vector state is the guest's own,
 *   switched with the kernel's guest-FPU support (GET/SET_XSAVE, the
 *   non-compacted user layout of struct kvm_xsave, xsave_size = 4096 bytes in
 *   version 1). On a host without XSAVE the image is the FXSAVE area with an
 *   XSAVE header naming x87 and SSE only.
 *
 * Errors
 *   -EFAULT bad pointer, -EINVAL bad value, -ENOTTY unknown ioctl, -EIO wrong
 *   process, -EBUSY a vCPU running in another thread, -ENOSPC no free slot.
 */
#ifndef DUNE_ABI_H
#define DUNE_ABI_H

#include <linux/ioctl.h>
#include <linux/kvm.h>
#include <linux/types.h>

#define DUNE_ABI_VERSION 1
#define DUNE_MAX_VCPU_ID 65535
#define DUNE_DEVICE_PATH "/dev/dune"
#define DUNE_IOC_MAGIC 0xE9

/* Fixed facts about this module and host. */
struct dune_info {
	__u32 abi_version; /* DUNE_ABI_VERSION */
	__u32 max_slots;   /* slots DUNE_SET_REGION accepts: 0 .. max_slots-1 */
	__u32 run_size;    /* bytes to mmap from a vCPU descriptor */
	__u32 xsave_size;  /* bytes of struct kvm_xsave GET/SET_XSAVE use */
	__u64 host_xcr0;   /* the XCR0 the host runs with (0: no XSAVE) */
	__u32 phys_bits;   /* guest-physical address width (EPT, 4 levels) */
	__u32 flags;       /* none defined yet: 0 */
	__u64 reserved[4];
};

/* Exit reason for an access the host refuses; layout at kvm_run.mmio. */
#define DUNE_RUN_EXIT_MEMORY_FAULT 39
#define DUNE_MEMORY_FAULT_WRITE (1u << 0)
#define DUNE_MEMORY_FAULT_EXEC (1u << 1)
struct dune_memory_fault {
	__u64 flags; /* DUNE_MEMORY_FAULT_* */
	__u64 gpa;
	__u64 size;
};

/*
 * Syscalls completed in the kernel (optional, off until set). The VM names the
 * `out` port its guest's syscall entry uses and the syscalls the module may
 * complete itself. When a vCPU executes a one-byte `out` to that port with RAX
 * holding an enabled syscall's number, and the thread has no syscall work
 * (no seccomp filter, ptrace, audit or syscall tracepoint: then the syscall
 * must go through the real entry, so it exits as usual), the module runs that
 * syscall's kernel code, puts the result in RAX, steps over the `out` and
 * resumes the guest without returning to user space. These are the calls the
 * kernel answers from the task itself (no argument, no side effect); every
 * other syscall is forwarded by user space. Port 0 turns the fast path off.
 */
#define DUNE_FAST_GETPID (1ull << 0)
#define DUNE_FAST_GETPPID (1ull << 1)
#define DUNE_FAST_GETTID (1ull << 2)
#define DUNE_FAST_GETUID (1ull << 3)
#define DUNE_FAST_GETEUID (1ull << 4)
#define DUNE_FAST_GETGID (1ull << 5)
#define DUNE_FAST_GETEGID (1ull << 6)
#define DUNE_FAST_ALL 0x7full
struct dune_syscall_fastpath {
	__u16 port;	  /* 0: off */
	__u16 reserved0;  /* 0 */
	__u32 flags;	  /* none defined yet: 0 */
	__u64 syscalls;	  /* DUNE_FAST_* */
	__u64 reserved[2]; /* 0 */
};

/* On the /dev/dune (VM) descriptor. */
#define DUNE_GET_ABI_VERSION _IO(DUNE_IOC_MAGIC, 0x00)
#define DUNE_GET_INFO _IOR(DUNE_IOC_MAGIC, 0x01, struct dune_info)
#define DUNE_SET_REGION _IOW(DUNE_IOC_MAGIC, 0x02, struct kvm_userspace_memory_region)
#define DUNE_CREATE_VCPU _IO(DUNE_IOC_MAGIC, 0x03) /* arg: vCPU id; returns an O_CLOEXEC vCPU fd */
#define DUNE_SET_SYSCALL_FASTPATH _IOW(DUNE_IOC_MAGIC, 0x04, struct dune_syscall_fastpath)

/* On a vCPU descriptor. */
#define DUNE_RUN _IO(DUNE_IOC_MAGIC, 0x10)
#define DUNE_GET_REGS _IOR(DUNE_IOC_MAGIC, 0x11, struct kvm_regs)
#define DUNE_SET_REGS _IOW(DUNE_IOC_MAGIC, 0x12, struct kvm_regs)
#define DUNE_GET_SREGS _IOR(DUNE_IOC_MAGIC, 0x13, struct kvm_sregs)
#define DUNE_SET_SREGS _IOW(DUNE_IOC_MAGIC, 0x14, struct kvm_sregs)
/*
 * struct kvm_msrs followed by nmsrs (<= DUNE_MAX_MSRS) entries; returns how
 * many were done. The sizes in these numbers are spelled out: struct kvm_msrs
 * and struct kvm_xsave end in flexible arrays, whose sizeof differs in C++.
 */
#define DUNE_MSRS_HEADER_SIZE 8
#define DUNE_XSAVE_SIZE 4096
#define DUNE_GET_MSRS _IOC(_IOC_READ | _IOC_WRITE, DUNE_IOC_MAGIC, 0x15, DUNE_MSRS_HEADER_SIZE)
#define DUNE_SET_MSRS _IOC(_IOC_WRITE, DUNE_IOC_MAGIC, 0x16, DUNE_MSRS_HEADER_SIZE)
#define DUNE_SET_XCRS _IOW(DUNE_IOC_MAGIC, 0x17, struct kvm_xcrs)
#define DUNE_GET_XSAVE _IOC(_IOC_READ, DUNE_IOC_MAGIC, 0x18, DUNE_XSAVE_SIZE)
#define DUNE_SET_XSAVE _IOC(_IOC_WRITE, DUNE_IOC_MAGIC, 0x19, DUNE_XSAVE_SIZE)

#define DUNE_MAX_MSRS 16

#endif /* DUNE_ABI_H */
