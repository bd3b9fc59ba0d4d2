/* SPDX-License-Identifier: GPL-2.0 */
/* vcpu_file.h - a vCPU as a file descriptor (DUNE_CREATE_VCPU). */
#ifndef DUNE_VCPU_FILE_H
#define DUNE_VCPU_FILE_H

#include "dune_vm.h"

/* Makes a vCPU of vm and returns its file descriptor, or a negative errno. */
int dune_vcpu_create_fd(struct dune_vm *vm);

#endif
