#!/usr/bin/env bash
# test.sh: installs what is missing, builds, and runs every test: unit tests,
# integration tests (real programs in Dune mode on /dev/kvm) and the hardware
# test bed (the same programs on kvm_intel inside Bochs).
# DUNE_REQUIRE_KVM=1 turns "skipped: no /dev/kvm / no Bochs" into failures (CI sets it).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
scripts/install-deps.sh --hwbed
scripts/build.sh
ctest --test-dir build --output-on-failure -j2 --timeout 900 "$@"
