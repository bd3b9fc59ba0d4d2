#!/usr/bin/env bash
# package.sh: Debian packages of the build (scripts/build.sh first) into build/packages/:
# libdune, libdune-dev, dune-tools and dune-dkms (packaging/CMakeLists.txt says what each holds).
# Prints the paths of the .deb files it made.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
if [[ ! -f build/CPackConfig.cmake ]]; then
  echo "package.sh: no build/CPackConfig.cmake: run scripts/build.sh first" >&2
  exit 2
fi
rm -rf build/packages
(cd build && cpack --config CPackConfig.cmake >/dev/null)
ls build/packages/*.deb
