// SPDX-License-Identifier: GPL-2.0
/* dune_main.c - module entry: VMX on every CPU, /dev/dune, one VM per open descriptor. */
#include <linux/fs.h>
#include <linux/miscdevice.h>
#include <linux/module.h>
#include <linux/sched.h>
#include <linux/uaccess.h>

#include "dune_abi.h"
#include "dune_vcpu.h"
#include "dune_vm.h"
#include "vcpu_file.h"
#include "vmx_hw.h"

static int dune_open(struct inode *inode, struct file *file)
{
	struct dune_vm *vm = dune_vm_create();

	if (IS_ERR(vm))
		return PTR_ERR(vm);
	file->private_data = vm;
	return 0;
}

static int dune_release(struct inode *inode, struct file *file)
{
	dune_vm_put(file->private_data);
	return 0;
}

static long get_info(void __user *arg)
{
	struct dune_info info = {
		.abi_version = DUNE_ABI_VERSION,
		.max_slots = DUNE_MAX_SLOTS,
		.run_size = PAGE_SIZE,
		.xsave_size = sizeof(struct kvm_xsave),
		.host_xcr0 = dune_caps.host_xcr0 & ~(u64)(XFEATURE_MASK_XTILE_CFG | XFEATURE_MASK_XTILE_DATA),
		.phys_bits = dune_vm_phys_bits(),
	};

	return copy_to_user(arg, &info, sizeof(info)) ? -EFAULT : 0;
}

static long set_fastpath(struct dune_vm *vm, void __user *arg)
{
	struct dune_syscall_fastpath f;

	if (copy_from_user(&f, arg, sizeof(f)))
		return -EFAULT;
	if (f.reserved0 || f.flags || f.reserved[0] || f.reserved[1] || (f.syscalls & ~DUNE_FAST_ALL))
		return -EINVAL;
	WRITE_ONCE(vm->fast_syscalls, f.port ? f.syscalls : 0);
	WRITE_ONCE(vm->fast_port, f.port);
	return 0;
}

static long dune_ioctl(struct file *file, unsigned int cmd, unsigned long arg)
{
	struct dune_vm *vm = file->private_data;
	struct kvm_userspace_memory_region region;

	if (cmd == DUNE_GET_ABI_VERSION)
		return DUNE_ABI_VERSION;
	/* A VM serves the process that made it; a forked child opens its own. */
	if (current->mm != vm->mm)
		return -EIO;
	switch (cmd) {
	case DUNE_GET_INFO:
		return get_info((void __user *)arg);
	case DUNE_SET_REGION:
		if (copy_from_user(&region, (void __user *)arg, sizeof(region)))
			return -EFAULT;
		return dune_vm_set_region(vm, &region);
	case DUNE_SET_SYSCALL_FASTPATH:
		return set_fastpath(vm, (void __user *)arg);
	case DUNE_CREATE_VCPU:
		return arg > DUNE_MAX_VCPU_ID ? -EINVAL : dune_vcpu_create_fd(vm);
	default:
		return -ENOTTY;
	}
}

static const struct file_operations dune_dev_fops = {
	.owner = THIS_MODULE,
	.open = dune_open,
	.release = dune_release,
	.unlocked_ioctl = dune_ioctl,
	.llseek = noop_llseek,
};

static struct miscdevice dune_misc = {
	.minor = MISC_DYNAMIC_MINOR,
	.name = "dune",
	.fops = &dune_dev_fops,
	.mode = 0666,
};

static int __init dune_init(void)
{
	int r = dune_vmx_enable_all();

	if (r) {
		pr_err("dune: cannot enable VMX (%d)%s\n", r,
		       r == -EBUSY ? ": another hypervisor (kvm_intel?) holds it; unload it first" :
		       r == -ENODEV ? ": this CPU has no VT-x" :
		       r == -EOPNOTSUPP ? ": VT-x lacks EPT or a needed control" : "");
		return r;
	}
	r = dune_vcpu_module_init();
	if (r)
		goto fail_vmx;
	r = misc_register(&dune_misc);
	if (r)
		goto fail_vcpu;
	pr_info("dune: ABI %d, /dev/dune ready\n", DUNE_ABI_VERSION);
	return 0;
fail_vcpu:
	dune_vcpu_module_exit();
fail_vmx:
	dune_vmx_disable_all();
	return r;
}

static void __exit dune_exit(void)
{
	misc_deregister(&dune_misc);
	dune_vcpu_module_exit();
	dune_vmx_disable_all();
}

module_init(dune_init);
module_exit(dune_exit);
MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("Dune: process-level VT-x virtualization (/dev/dune)");
