// backend_choice.h - which hypervisor interface serves Dune mode (DUNE_BACKEND).
#pragma once

#include <optional>

#include "base/result.h"
#include "kvm/backend.h"
#include "kvm/kvm_device.h"

namespace dune {

// The values of DUNE_BACKEND.
enum class BackendSetting {
  kAuto,    // the kernel module's /dev/dune when usable, else /dev/kvm
  kKvm,     // /dev/kvm
  kModule,  // /dev/dune (kernel/)
};

// "auto", "kvm", "module"; nullopt for anything else.
std::optional<BackendSetting> parse_backend(const char* value);

struct BackendChoice {
  Backend backend = Backend::kKvm;
  // With kModule: the module's device, opened (to know it is usable) and kept.
  std::optional<KvmDevice> module;
};

// The backend to use, from DUNE_BACKEND (a bad value: one warning, auto) and
// the module's device (DUNE_MODULE_DEVICE, else /dev/dune): auto takes the
// module when it opens and speaks this libdune's ABI version, else /dev/kvm,
// saying which at info level. A forced backend that is unusable is an error
// with one message saying why. /dev/kvm is not opened here.
Result<BackendChoice> choose_backend();

// The chosen backend's device, opened: what dune_init and the exit floor use.
Result<KvmDevice> open_chosen_device();

// The backend choose_backend would take, found without a word: a forced one
// as it is (usable or not), auto after opening the module's device.
Backend expected_backend();

}  // namespace dune
