/* SPDX-License-Identifier: GPL-2.0 */
/* fast_syscalls.h - getpid and the like answered in the kernel (DUNE_SET_SYSCALL_FASTPATH). */
#ifndef DUNE_FAST_SYSCALLS_H
#define DUNE_FAST_SYSCALLS_H

#include <linux/types.h>

#include "dune_vcpu.h"

/* When the VM enabled it and the task has no syscall work (seccomp, ptrace, audit,
 * tracepoints), puts the answer to the syscall in RAX in RAX and returns true. */
bool dune_fast_syscall(struct dune_vcpu *v);

#endif
