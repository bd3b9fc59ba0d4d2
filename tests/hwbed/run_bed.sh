#!/usr/bin/env bash
# run_bed.sh CPU_MODEL PROG...: the hardware test bed as a CTest test. Runs the
# statically linked programs on kvm_intel inside Bochs, or on kvm_amd inside
# QEMU for the amd-* models (scripts/hwbed/run.sh), strict: the flavour that
# libdune detects must be the CPU's (the flavour program checks it).
# A missing emulator is a skip (77) unless DUNE_REQUIRE_HWBED=1 or DUNE_REQUIRE_KVM=1.
set -u
cpu=$1
shift
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
# Timers run on the emulated clock, which the CPU models drive at very
# different speeds against the work of a signal delivery: scale them so that
# delivering one takes far less than an interval, and the test still ends.
# Bochs' clock follows the instructions it executes; QEMU's (TCG) is the
# host's, against which every VM exit of the emulated SVM is slow. Skylake-X:
# 20 (at 100 its three signal programs took 165 s of wall time, mostly waiting
# for timers; at 20, 90 s). Broadwell: 100, at Bochs' 40 million instructions an emulated
# second there (scripts/hwbed/lib/cpu_models.sh): the same emulated work per timer period as
# 1000 at the default 4 million.
case $cpu in
  corei7_skylake_x) scale=20 flavour=vmx ;;
  amd-*) scale=10 flavour=svm ;;
  broadwell_ult) scale=100 flavour=vmx ;;
  *) scale=1000 flavour=vmx ;;
esac
DUNE_HWBED_CPU=$cpu "$root/scripts/hwbed/run.sh" --timeout 600 \
  --env DUNE_REQUIRE_KVM=1 --env DUNE_STRICT=1 --env DUNE_TEST_QUICK=1 --env DUNE_TEST_TIME_SCALE=$scale \
  --env DUNE_TEST_EXPECT_FLAVOUR=$flavour "$@"
status=$?
if ((status == 3)) && [[ ${DUNE_REQUIRE_HWBED:-} != 1 && ${DUNE_REQUIRE_KVM:-} != 1 ]]; then
  echo "run_bed: SKIP: the hardware test bed's packages are missing (scripts/install-deps.sh --hwbed)"
  exit 77
fi
exit $status
