// SPDX-License-Identifier: GPL-2.0
/* dune_main.c - module entry: /dev/dune (skeleton: answers the ABI version). */
#include <linux/fs.h>
#include <linux/miscdevice.h>
#include <linux/module.h>

#include "dune_abi.h"

static long dune_dev_ioctl(struct file *file, unsigned int cmd, unsigned long arg)
{
	if (cmd == DUNE_GET_ABI_VERSION)
		return DUNE_ABI_VERSION;
	return -ENOTTY;
}

static const struct file_operations dune_dev_fops = {
	.owner = THIS_MODULE,
	.unlocked_ioctl = dune_dev_ioctl,
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
	return misc_register(&dune_misc);
}

static void __exit dune_exit(void)
{
	misc_deregister(&dune_misc);
}

module_init(dune_init);
module_exit(dune_exit);
MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("Dune: process-level VT-x virtualization (/dev/dune)");
