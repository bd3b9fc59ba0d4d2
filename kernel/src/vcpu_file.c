// SPDX-License-Identifier: GPL-2.0
/* vcpu_file.c - a vCPU's file descriptor: its ioctls, the run page's mapping, its release. */
#include <linux/anon_inodes.h>
#include <linux/err.h>
#include <linux/file.h>
#include <linux/fs.h>
#include <linux/mm.h>
#include <linux/module.h>
#include <linux/sched.h>
#include <linux/uaccess.h>

#include "dune_vcpu.h"
#include "vcpu_file.h"
#include "vcpu_run.h"

static long vcpu_ioctl(struct file *file, unsigned int cmd, unsigned long arg)
{
	struct dune_vcpu *v = file->private_data;
	void __user *uarg = (void __user *)arg;
	struct kvm_regs regs;
	struct kvm_sregs sregs;
	long r;

	if (current->mm != v->vm->mm)
		return -EIO;
	if (!mutex_trylock(&v->lock))
		return -EBUSY;
	switch (cmd) {
	case DUNE_RUN:
		r = arg ? -EINVAL : dune_vcpu_run(v);
		break;
	case DUNE_GET_REGS:
		dune_vcpu_get_regs(v, &regs);
		r = copy_to_user(uarg, &regs, sizeof(regs)) ? -EFAULT : 0;
		break;
	case DUNE_SET_REGS:
		r = copy_from_user(&regs, uarg, sizeof(regs)) ? -EFAULT : dune_vcpu_set_regs(v, &regs);
		break;
	case DUNE_GET_SREGS:
		r = dune_vcpu_get_sregs(v, &sregs);
		if (!r && copy_to_user(uarg, &sregs, sizeof(sregs)))
			r = -EFAULT;
		break;
	case DUNE_SET_SREGS:
		r = copy_from_user(&sregs, uarg, sizeof(sregs)) ? -EFAULT : dune_vcpu_set_sregs(v, &sregs);
		break;
	case DUNE_GET_MSRS:
		r = dune_vcpu_msrs_ioctl(v, uarg, false);
		break;
	case DUNE_SET_MSRS:
		r = dune_vcpu_msrs_ioctl(v, uarg, true);
		break;
	case DUNE_SET_XCRS:
		r = dune_vcpu_set_xcrs(v, uarg);
		break;
	case DUNE_GET_XSAVE:
		r = dune_vcpu_xsave_ioctl(v, uarg, false);
		break;
	case DUNE_SET_XSAVE:
		r = dune_vcpu_xsave_ioctl(v, uarg, true);
		break;
	default:
		r = -ENOTTY;
	}
	mutex_unlock(&v->lock);
	return r;
}

static vm_fault_t run_page_fault(struct vm_fault *vmf)
{
	struct dune_vcpu *v = vmf->vma->vm_file->private_data;
	struct page *page;

	if (vmf->pgoff != 0)
		return VM_FAULT_SIGBUS;
	page = virt_to_page(v->run);
	get_page(page);
	vmf->page = page;
	return 0;
}

static const struct vm_operations_struct run_page_ops = {
	.fault = run_page_fault,
};

static int vcpu_mmap(struct file *file, struct vm_area_struct *vma)
{
	struct dune_vcpu *v = file->private_data;

	if (current->mm != v->vm->mm)
		return -EIO;
	if (vma->vm_pgoff != 0 || vma->vm_end - vma->vm_start != PAGE_SIZE)
		return -EINVAL;
	vma->vm_ops = &run_page_ops;
	return 0;
}

static int vcpu_release(struct inode *inode, struct file *file)
{
	dune_vcpu_free(file->private_data);
	return 0;
}

static const struct file_operations vcpu_fops = {
	.owner = THIS_MODULE,
	.unlocked_ioctl = vcpu_ioctl,
	.mmap = vcpu_mmap,
	.release = vcpu_release,
	.llseek = noop_llseek,
};

int dune_vcpu_create_fd(struct dune_vm *vm)
{
	struct dune_vcpu *v = dune_vcpu_create(vm);
	int fd;

	if (IS_ERR(v))
		return PTR_ERR(v);
	fd = anon_inode_getfd("dune-vcpu", &vcpu_fops, v, O_RDWR | O_CLOEXEC);
	if (fd < 0)
		dune_vcpu_free(v);
	return fd;
}
