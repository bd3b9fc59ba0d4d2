#!/usr/bin/env bash
# install-deps.sh [--hwbed]: installs (with apt) what building and testing need and is missing.
#   default  the build: compiler, CMake, Boost, libunwind, fmt, GoogleTest, scdoc and help2man,
#            and the programs the integration and packaging tests run (dkms, lintian)
#   --hwbed  also the hardware test beds (Bochs, QEMU and friends: scripts/hwbed/packages.txt) and the
#            headers of the kernel it boots (linux-headers-RELEASE, RELEASE from
#            scripts/hwbed/run.sh --kernel-version), to build the kernel module kernel/ for it
# Needs root for apt-get (or sudo); does nothing when everything is present.
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)

packages=(
  build-essential g++ cmake pkg-config
  libboost-program-options-dev libboost-stacktrace-dev libunwind-dev libfmt-dev
  googletest libgtest-dev
  python3 strace gdb procps file
  scdoc help2man                # man pages (packaging/)
  dkms lintian man-db           # the Debian packages' test (tests/packaging)
)
hwbed=0
while (($#)); do
  case $1 in
    --hwbed) mapfile -t bed < <(awk '$1 !~ /^(#|$)/ { print $1 }' "$here/hwbed/packages.txt"); packages+=("${bed[@]}"); hwbed=1; shift ;;
    -h | --help) sed -n '2,8p' "$0"; exit 0 ;;
    *) echo "install-deps.sh: unknown option '$1' (see --help)" >&2; exit 2 ;;
  esac
done

sudo=""
if ((EUID != 0)) && command -v sudo >/dev/null; then
  sudo=sudo
fi
need_root() { # need_root WHAT
  if ((EUID != 0)) && [[ -z $sudo ]]; then
    echo "install-deps: need root (or sudo) to $1" >&2
    exit 1
  fi
}
export DEBIAN_FRONTEND=noninteractive

if ((hwbed)); then
  # The kernel release comes from apt's lists: without them (a fresh machine), update them once.
  kver=$("$here/hwbed/run.sh" --kernel-version 2>/dev/null || true)
  if [[ -z $kver ]]; then
    need_root "run apt-get update (to find the test bed's kernel release)"
    $sudo apt-get update -q
    kver=$("$here/hwbed/run.sh" --kernel-version) ||
      { echo "install-deps: cannot tell which kernel the hardware test bed boots (scripts/hwbed/run.sh --kernel-version)" >&2; exit 1; }
  fi
  packages+=("linux-headers-$kver")
fi

missing=()
for p in "${packages[@]}"; do
  status=$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true)
  [[ $status == "install ok installed" ]] || missing+=("$p")
done
((${#missing[@]})) || exit 0

echo "install-deps: installing ${missing[*]}"
need_root "install: ${missing[*]}"
if ! $sudo apt-get install -y -q --no-install-recommends "${missing[@]}"; then
  $sudo apt-get update -q
  $sudo apt-get install -y -q --no-install-recommends "${missing[@]}"
fi
