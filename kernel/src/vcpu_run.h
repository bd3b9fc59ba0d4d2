/* SPDX-License-Identifier: GPL-2.0 */
/* vcpu_run.h - the run loop: DUNE_RUN. */
#ifndef DUNE_VCPU_RUN_H
#define DUNE_VCPU_RUN_H

#include "dune_vcpu.h"

/* Runs the guest until an exit for user space, a signal or work for the way to user space. */
long dune_vcpu_run(struct dune_vcpu *v);

#endif
