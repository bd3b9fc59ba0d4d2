#!/usr/bin/env bash
# test.sh: installs what is missing, builds, and runs every test: unit tests,
# integration tests (real programs in Dune mode on /dev/kvm) and the hardware
# test beds (the same programs on kvm_intel and dune.ko inside Bochs, on
# kvm_amd inside QEMU).
# DUNE_REQUIRE_KVM=1 turns "skipped: no /dev/kvm" into failures, DUNE_REQUIRE_HWBED=1 "skipped:
# no emulator for the test beds" (CI sets both, .ci/run).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
scripts/install-deps.sh --hwbed
scripts/build.sh
ctest --test-dir build --output-on-failure -j2 --timeout 900 "$@"
