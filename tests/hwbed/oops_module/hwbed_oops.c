// SPDX-License-Identifier: GPL-2.0
/*
 * hwbed_oops.c - writes through a NULL pointer when loaded, on purpose: the kernel oopses (the
 * insmod process is killed, the kernel goes on). tests/hwbed/oops_demo.sh loads it in the Bochs
 * bed to show that the bed reports the oops as a failure. Never load it on a real machine.
 */
#include <linux/init.h>
#include <linux/module.h>
#include <linux/printk.h>

static int __init hwbed_oops_init(void)
{
	/* volatile: the compiler may not drop or move the store it knows to be undefined */
	int *volatile target = NULL;

	pr_info("hwbed_oops: writing through a NULL pointer on purpose\n");
	*target = 1;
	return 0;
}

static void __exit hwbed_oops_exit(void)
{
}

module_init(hwbed_oops_init);
module_exit(hwbed_oops_exit);
MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("hwbed: oopses on load to test the bed's kernel log scan");
