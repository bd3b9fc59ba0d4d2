#include "runtime/backend_choice.h"

#include <cstdlib>
#include <cstring>

#include "base/log.h"
#include "kvm/module_device.h"

namespace dune {

namespace {

// DUNE_BACKEND; a bad value is auto, with one warning when `warn`.
BackendSetting setting_from_env(bool warn) {
  const char* v = std::getenv("DUNE_BACKEND");
  if (!v || !*v) return BackendSetting::kAuto;
  auto parsed = parse_backend(v);
  if (parsed) return *parsed;
  if (warn) log::warn("DUNE_BACKEND='{}' is not auto, kvm or module; using auto", v);
  return BackendSetting::kAuto;
}

}  // namespace

std::optional<BackendSetting> parse_backend(const char* value) {
  if (!value) return std::nullopt;
  if (!std::strcmp(value, "auto")) return BackendSetting::kAuto;
  if (!std::strcmp(value, "kvm")) return BackendSetting::kKvm;
  if (!std::strcmp(value, "module")) return BackendSetting::kModule;
  return std::nullopt;
}

Result<BackendChoice> choose_backend() {
  BackendSetting setting = setting_from_env(true);
  BackendChoice choice;
  if (setting == BackendSetting::kKvm) {
    log::info("backend: {} (DUNE_BACKEND=kvm)", KvmDevice::default_path());
    return choice;
  }
  const char* path = default_module_path();
  DeviceProblem why;
  auto module = KvmDevice::open_module(path, &why);
  if (module) {
    log::info("backend: {}, the Dune kernel module{}", path,
              setting == BackendSetting::kModule ? " (DUNE_BACKEND=module)" : "");
    choice.backend = Backend::kModule;
    choice.module.emplace(std::move(module.value()));
    return choice;
  }
  if (setting == BackendSetting::kAuto) {
    log::info("backend: {} ({})", KvmDevice::default_path(), why.text);
    return choice;
  }
  if (module.error() == -ENODEV)
    log::error("cannot enter Dune mode: DUNE_BACKEND=module, but {} does not exist (the Dune kernel module is not "
               "loaded); unset DUNE_BACKEND to use /dev/kvm",
               path);
  else
    log::error("cannot enter Dune mode: {}; unset DUNE_BACKEND to use /dev/kvm", why.text);
  return Error(module.error());
}

Result<KvmDevice> open_chosen_device() {
  auto choice = choose_backend();
  if (!choice) return Error(choice.error());
  if (choice->module) return std::move(*choice->module);
  return KvmDevice::open();
}

Backend expected_backend() {
  switch (setting_from_env(false)) {
    case BackendSetting::kKvm: return Backend::kKvm;
    case BackendSetting::kModule: return Backend::kModule;
    case BackendSetting::kAuto: break;
  }
  DeviceProblem why;
  return KvmDevice::open_module(nullptr, &why) ? Backend::kModule : Backend::kKvm;
}

}  // namespace dune
