#include "kvm/module_device.h"

#include <fcntl.h>

#include <cstdlib>

#include "base/log.h"

namespace dune {

const char* default_module_path() {
  const char* device = std::getenv("DUNE_MODULE_DEVICE");
  return device && *device ? device : DUNE_DEVICE_PATH;
}

Status check_module_version(const char* path, long version, DeviceProblem* why) {
  if (version == DUNE_ABI_VERSION) return {};
  if (version < 0)
    why->say("{} is not the Dune kernel module's device (DUNE_GET_ABI_VERSION: {})", path,
             log::errno_name(static_cast<int>(version)));
  else
    why->say("{} speaks ABI version {}, this libdune needs {}", path, version, DUNE_ABI_VERSION);
  return Error(-ENOTSUP);
}

Status check_module_info(const char* path, const dune_info& info, DeviceProblem* why) {
  DUNE_TRY(check_module_version(path, static_cast<long>(info.abi_version), why));
  // The run page holds what libdune reads and writes: a whole struct kvm_run.
  if (info.run_size < sizeof(kvm_run)) {
    why->say("{} offers a run page of {} bytes, libdune needs {}", path, info.run_size, sizeof(kvm_run));
    return Error(-ENOTSUP);
  }
  if (info.max_slots == 0) {
    why->say("{} offers no memory slots", path);
    return Error(-ENOTSUP);
  }
  return {};
}

Result<ModuleVm> open_module_vm(const char* path, DeviceProblem* why) {
  ModuleVm vm;
  long fd = UniqueFd::create(&vm.fd, [&] { return sys::open(path, O_RDWR | O_CLOEXEC); });
  if (sys::is_error(fd)) {
    int err = static_cast<int>(fd);
    why->say_open_failed(path, err);
    return Error(open_failure_of(err) == OpenFailure::kMissing ? -ENODEV : err);
  }
  DUNE_TRY(check_module_version(path, sys::ioctl(vm.fd.get(), DUNE_GET_ABI_VERSION, 0L), why));
  long r = sys::ioctl(vm.fd.get(), DUNE_GET_INFO, &vm.info);
  if (r < 0) {
    why->say("{} does not answer DUNE_GET_INFO: {}", path, log::errno_name(static_cast<int>(r)));
    return Error(-ENOTSUP);
  }
  DUNE_TRY(check_module_info(path, vm.info, why));
  return vm;
}

}  // namespace dune
