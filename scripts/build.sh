#!/usr/bin/env bash
# build.sh: configures (CMake preset "default", into build/) and builds everything. Where the
# headers of the test bed's kernel are installed (scripts/install-deps.sh --hwbed), the kernel
# module kernel/ (build/kernel/dune.ko) is built against them too.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
module=()
if kver=$(scripts/hwbed/run.sh --kernel-version 2>/dev/null) && [[ -f /usr/src/linux-headers-$kver/Makefile ]]; then
  module=(-DDUNE_BUILD_KERNEL_MODULE=ON "-DKDIR=/usr/src/linux-headers-$kver")
fi
cmake --preset default "${module[@]}" >/dev/null
cmake --build --preset default -- --quiet 2>&1 | grep -v '^\[' || true
# Fail loudly if the build failed (the filter above hides the progress lines only).
cmake --build --preset default >/dev/null
