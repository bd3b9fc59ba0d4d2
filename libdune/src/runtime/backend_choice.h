// backend_choice.h - which hypervisor interface serves Dune mode (DUNE_BACKEND).
#pragma once

#include <optional>

#include "base/result.h"

namespace dune {

enum class Backend {
  kAuto,    // the kernel module's /dev/dune when usable, else /dev/kvm
  kKvm,     // /dev/kvm
  kModule,  // /dev/dune (kernel/): not in this build yet
};

// "auto", "kvm", "module"; nullopt for anything else.
std::optional<Backend> parse_backend(const char* value);

// The backend to use, from DUNE_BACKEND (a bad value: one warning, auto). A
// forced backend that is unavailable is an error with one message saying why.
Result<Backend> choose_backend();

}  // namespace dune
