#!/usr/bin/env bash
# build.sh: configures (CMake preset "default", into build/) and builds everything.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
cmake --preset default >/dev/null
cmake --build --preset default -- --quiet 2>&1 | grep -v '^\[' || true
# Fail loudly if the build failed (the filter above hides the progress lines only).
cmake --build --preset default >/dev/null
