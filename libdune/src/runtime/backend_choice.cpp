#include "runtime/backend_choice.h"

#include <sys/stat.h>

#include <cstdlib>
#include <cstring>

#include "base/log.h"

namespace dune {

namespace {
constexpr const char* kModuleDevice = "/dev/dune";
}  // namespace

std::optional<Backend> parse_backend(const char* value) {
  if (!value) return std::nullopt;
  if (!std::strcmp(value, "auto")) return Backend::kAuto;
  if (!std::strcmp(value, "kvm")) return Backend::kKvm;
  if (!std::strcmp(value, "module")) return Backend::kModule;
  return std::nullopt;
}

Result<Backend> choose_backend() {
  const char* v = std::getenv("DUNE_BACKEND");
  Backend b = Backend::kAuto;
  if (v && *v) {
    auto parsed = parse_backend(v);
    if (parsed)
      b = *parsed;
    else
      log::warn("DUNE_BACKEND='{}' is not auto, kvm or module; using auto", v);
  }
  if (b != Backend::kModule) return Backend::kKvm;  // auto: no module backend in this build
  struct stat st;
  if (stat(kModuleDevice, &st) != 0) {
    log::error("cannot enter Dune mode: DUNE_BACKEND=module, but {} does not exist (the Dune kernel module is not "
               "loaded); unset DUNE_BACKEND to use /dev/kvm",
               kModuleDevice);
    return Error(-ENODEV);
  }
  log::error("cannot enter Dune mode: DUNE_BACKEND=module, but this libdune has no kernel-module backend yet; "
             "unset DUNE_BACKEND to use /dev/kvm");
  return Error(-ENOTSUP);
}

}  // namespace dune
