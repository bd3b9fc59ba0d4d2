#!/usr/bin/env bash
# setup.sh: installs what is missing, builds, and runs the main job: a real
# program in Dune mode, then the cost of Dune mode measured side by side.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
scripts/install-deps.sh
scripts/build.sh
echo "== hello, the original Dune's first test, in Dune mode"
build/tests/integration/bin/hello
echo
echo "== a forwarded syscall beside the VM exit floor of this host"
build/bench/syscall_floor
