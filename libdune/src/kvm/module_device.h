// module_device.h - /dev/dune, the Dune kernel module: each open is a new VM
// of the calling process; its ABI version and facts say whether libdune can
// drive it.
#pragma once

#include "base/result.h"
#include "base/unique_fd.h"
#include "kvm/device_problem.h"
#include "kvm/module_abi.h"

namespace dune {

// A VM of the module: its descriptor and the module's facts (DUNE_GET_INFO).
struct ModuleVm {
  UniqueFd fd;
  dune_info info{};
};

// DUNE_MODULE_DEVICE from the environment, else /dev/dune.
const char* default_module_path();

// Opens path (O_RDWR | O_CLOEXEC), which makes a VM of this process, and
// checks its ABI version and facts. Nothing is logged; on failure *why says
// what is wrong. Errors: -ENODEV (no such file or device), -EACCES or -EPERM
// (no permission), -ENOTSUP (not the module, another ABI version, facts
// libdune cannot use), else what open or the ioctl returned.
Result<ModuleVm> open_module_vm(const char* path, DeviceProblem* why);

// The checks open_module_vm makes of what the device answered.
Status check_module_version(const char* path, long version, DeviceProblem* why);
Status check_module_info(const char* path, const dune_info& info, DeviceProblem* why);

}  // namespace dune
