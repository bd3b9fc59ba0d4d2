#!/usr/bin/env bash
# run_bed.sh CPU_MODEL PROG...: the hardware test bed as a CTest test. Runs the
# statically linked programs on kvm_intel inside Bochs (scripts/hwbed/run.sh).
# A missing Bochs is a skip (77) unless DUNE_REQUIRE_KVM=1.
set -u
cpu=$1
shift
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
# Timers run on the emulated clock, which the two CPU models drive at very
# different speeds against the work of a signal delivery: scale them so that
# delivering one takes far less than an interval, and the test still ends.
case $cpu in
  corei7_skylake_x) scale=100 ;;
  *) scale=1000 ;;
esac
DUNE_HWBED_CPU=$cpu "$root/scripts/hwbed/run.sh" --timeout 600 \
  --env DUNE_REQUIRE_KVM=1 --env DUNE_TEST_QUICK=1 --env DUNE_TEST_TIME_SCALE=$scale "$@"
status=$?
if ((status == 3)) && [[ ${DUNE_REQUIRE_KVM:-} != 1 ]]; then
  echo "run_bed: SKIP: the hardware test bed's packages are missing (scripts/install-deps.sh --hwbed)"
  exit 77
fi
exit $status
