#!/usr/bin/env bash
# run_bed.sh CPU_MODEL PROG...: the hardware test bed as a CTest test. Runs the
# statically linked programs on kvm_intel inside Bochs (scripts/hwbed/run.sh).
# A missing Bochs is a skip (77) unless DUNE_REQUIRE_KVM=1.
set -u
cpu=$1
shift
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
DUNE_HWBED_CPU=$cpu "$root/scripts/hwbed/run.sh" --timeout 600 \
  --env DUNE_REQUIRE_KVM=1 --env DUNE_TEST_QUICK=1 --env DUNE_TEST_TIME_SCALE=1000 "$@"
status=$?
if ((status == 3)) && [[ ${DUNE_REQUIRE_KVM:-} != 1 ]]; then
  echo "run_bed: SKIP: the hardware test bed's packages are missing (scripts/install-deps.sh --hwbed)"
  exit 77
fi
exit $status
