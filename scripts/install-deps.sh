#!/usr/bin/env bash
# install-deps.sh [--hwbed]: installs (with apt) what building and testing need and is missing.
#   default  the build: compiler, CMake, Boost, libunwind, fmt, GoogleTest, and the programs
#            the integration tests run
#   --hwbed  also the hardware test bed (Bochs and friends: scripts/hwbed/packages.txt)
# Needs root for apt-get (or sudo); does nothing when everything is present.
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)

packages=(
  build-essential g++ cmake pkg-config
  libboost-program-options-dev libboost-stacktrace-dev libunwind-dev libfmt-dev
  googletest libgtest-dev
  python3 strace procps file
)
while (($#)); do
  case $1 in
    --hwbed) mapfile -t bed < <(grep -v '^\s*\(#\|$\)' "$here/hwbed/packages.txt"); packages+=("${bed[@]}"); shift ;;
    -h | --help) sed -n '2,6p' "$0"; exit 0 ;;
    *) echo "install-deps.sh: unknown option '$1' (see --help)" >&2; exit 2 ;;
  esac
done

missing=()
for p in "${packages[@]}"; do
  status=$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true)
  [[ $status == "install ok installed" ]] || missing+=("$p")
done
((${#missing[@]})) || exit 0

echo "install-deps: installing ${missing[*]}"
sudo=""
if ((EUID != 0)); then
  command -v sudo >/dev/null || { echo "install-deps: need root (or sudo) to install: ${missing[*]}" >&2; exit 1; }
  sudo=sudo
fi
export DEBIAN_FRONTEND=noninteractive
if ! $sudo apt-get install -y -q --no-install-recommends "${missing[@]}"; then
  $sudo apt-get update -q
  $sudo apt-get install -y -q --no-install-recommends "${missing[@]}"
fi
