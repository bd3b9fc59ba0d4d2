// SPDX-License-Identifier: GPL-2.0
/* fast_syscalls.c - the syscalls the module answers without a return to user space. */
#include <linux/cred.h>
#include <linux/rcupdate.h>
#include <linux/sched.h>
#include <linux/uidgid.h>
#include <linux/user_namespace.h>
#include <asm/unistd.h>

#include "dune_abi.h"
#include "fast_syscalls.h"

/* The kernel's own answer to a syscall that needs nothing but the task (kernel/sys.c's code). */
bool dune_fast_syscall(struct dune_vcpu *v)
{
	u64 enabled = READ_ONCE(v->vm->fast_syscalls);
	long result;

	/* seccomp, ptrace, audit, tracepoints: only the real syscall entry does those. */
	if (!enabled || READ_ONCE(current_thread_info()->syscall_work))
		return false;
	switch (v->gprs.rax) {
	case __NR_getpid:
		if (!(enabled & DUNE_FAST_GETPID))
			return false;
		result = task_tgid_vnr(current);
		break;
	case __NR_getppid:
		if (!(enabled & DUNE_FAST_GETPPID))
			return false;
		rcu_read_lock();
		result = task_tgid_vnr(rcu_dereference(current->real_parent));
		rcu_read_unlock();
		break;
	case __NR_gettid:
		if (!(enabled & DUNE_FAST_GETTID))
			return false;
		result = task_pid_vnr(current);
		break;
	case __NR_getuid:
		if (!(enabled & DUNE_FAST_GETUID))
			return false;
		result = from_kuid_munged(current_user_ns(), current_uid());
		break;
	case __NR_geteuid:
		if (!(enabled & DUNE_FAST_GETEUID))
			return false;
		result = from_kuid_munged(current_user_ns(), current_euid());
		break;
	case __NR_getgid:
		if (!(enabled & DUNE_FAST_GETGID))
			return false;
		result = from_kgid_munged(current_user_ns(), current_gid());
		break;
	case __NR_getegid:
		if (!(enabled & DUNE_FAST_GETEGID))
			return false;
		result = from_kgid_munged(current_user_ns(), current_egid());
		break;
	default:
		return false;
	}
	v->gprs.rax = result;
	return true;
}
