#!/usr/bin/env bash
# debian_packages.sh BUILD_DIR [MODULE_SMOKE]: the Debian packages as a user gets them.
# Makes them (scripts/package.sh's cpack), requires lintian to report no error, installs them with
# apt-get, runs the installed dunetrace, dunestat and shim, builds a program against the installed
# find_package(dune) and pkg-config dune, reads the man pages, has dkms build dune.ko from
# dune-dkms for the test bed's kernel and loads that module in the Bochs bed (MODULE_SMOKE runs
# there on it), then purges the packages and checks that nothing of them is left.
# Needs root (apt-get, dpkg, dkms): otherwise a skip (77). Packages of these names installed
# before are purged first.
set -euo pipefail
build=$(cd "$1" && pwd)
smoke=${2-}
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(cd "$here/../.." && pwd)
packages=(libdune libdune-dev dune-tools dune-dkms)

if ((EUID != 0)); then
  echo "debian_packages: SKIP: installing packages needs root"
  exit 77
fi
for tool in apt-get dpkg lintian dkms man; do
  command -v "$tool" >/dev/null || { echo "debian_packages: FAIL: $tool is missing (scripts/install-deps.sh installs it)"; exit 1; }
done
fail() { echo "debian_packages: FAIL: $*"; exit 1; }
work=$(mktemp -d)
purge() { apt-get purge -y -q "${packages[@]}" >"$work/purge.log" 2>&1 || true; }
trap 'purge; rm -rf "$work"' EXIT
export DEBIAN_FRONTEND=noninteractive
version=$(sed -n 's/^set(CPACK_PACKAGE_VERSION "\(.*\)")$/\1/p' "$build/CPackConfig.cmake")
[[ -n $version ]] || fail "no CPACK_PACKAGE_VERSION in $build/CPackConfig.cmake"

# 1. The packages, and lintian.
rm -rf "$build/packages"
(cd "$build" && cpack --config CPackConfig.cmake >"$work/cpack.log" 2>&1) || { cat "$work/cpack.log"; fail "cpack"; }
debs=("$build"/packages/*.deb)
((${#debs[@]} == 4)) || fail "expected 4 packages, cpack made: ${debs[*]}"
lintian --tag-display-limit 0 "${debs[@]}" >"$work/lintian.log" 2>&1 || true
if grep '^E:' "$work/lintian.log"; then fail "lintian reports errors"; fi
echo "debian_packages: 4 packages, lintian: no error ($(grep -c '^W:' "$work/lintian.log" || true) warnings)"

# 2. Installed with apt-get, as a user would.
purge
apt-get install -y -q --no-install-recommends "${debs[@]}" >"$work/install.log" 2>&1 || { cat "$work/install.log"; fail "apt-get install"; }
for p in "${packages[@]}"; do
  [[ $(dpkg-query -W -f='${Status} ${Version}' "$p") == "install ok installed $version" ]] || fail "$p is not installed at $version"
  dpkg -L "$p" >>"$work/files"
done
echo "debian_packages: installed"

# 3. The installed tools and shim.
[[ $(/usr/bin/dunetrace --version) == *"$version"* ]] || fail "dunetrace --version"
[[ $(/usr/bin/dunestat --version) == *"$version"* ]] || fail "dunestat --version"
/usr/bin/dunetrace -c -o "$work/trace.txt" /bin/true || fail "dunetrace -c /bin/true"
[[ -s $work/trace.txt ]] || fail "dunetrace -c wrote nothing"
/usr/bin/dunestat --only tsc,syscall --iterations 100 >"$work/dunestat.txt" 2>&1 || { cat "$work/dunestat.txt"; fail "dunestat"; }
grep -q "System call" "$work/dunestat.txt" || fail "dunestat printed no System call row"
help=$(DUNE_HELP=1 LD_PRELOAD=libdune_preload.so /bin/true 2>&1) || true
[[ $help == *DUNE_STRICT* ]] || fail "the installed shim (LD_PRELOAD=libdune_preload.so) did not print its knobs"
[[ $(LD_PRELOAD=libdune_preload.so sh -c 'echo shim ok' 2>/dev/null) == "shim ok" ]] || fail "a program under the installed shim"
for page in dunetrace.1 dunestat.1 libdune.3 libdune_preload.7; do
  man -w "${page%.*}" >/dev/null 2>&1 || [[ -e /usr/share/man/man${page##*.}/$page.gz ]] || fail "man page $page"
  zcat "/usr/share/man/man${page##*.}/$page.gz" | grep -q '^\.TH' || fail "man page $page has no .TH"
done
for c in dunetrace dunestat; do
  bash -n "/usr/share/bash-completion/completions/$c" || fail "bash completion $c"
done
echo "debian_packages: dunetrace, dunestat, the shim, man pages, completions ok"

# 4. Building against the installed library.
cmake -S "$root/tests/install/consumer" -B "$work/consumer" >/dev/null || fail "find_package(dune)"
cmake --build "$work/consumer" >/dev/null || fail "building against find_package(dune)"
"$work/consumer/consumer_shared" >/dev/null || fail "consumer_shared"
"$work/consumer/consumer_static" >/dev/null || fail "consumer_static"
gcc -o "$work/pc" "$root/tests/install/consumer/consumer.c" $(pkg-config --cflags --libs dune) || fail "pkg-config dune"
"$work/pc" >/dev/null || fail "the pkg-config program"
echo "debian_packages: find_package(dune) and pkg-config dune ok"

# 5. dkms builds dune.ko for the test bed's kernel; it loads there.
kver=$("$root/scripts/hwbed/run.sh" --kernel-version 2>/dev/null || true)
if [[ -n $kver && -e /lib/modules/$kver/build/Makefile ]]; then
  dkms build -m dune -v "$version" -k "$kver" >"$work/dkms.log" 2>&1 || { cat "$work/dkms.log"; fail "dkms build for $kver"; }
  ko=/var/lib/dkms/dune/$version/$kver/x86_64/module/dune.ko
  [[ -e $ko ]] || ko=$(find "/var/lib/dkms/dune/$version/$kver" -name 'dune.ko*' | head -1)
  [[ -n $ko && -e $ko ]] || fail "dkms built no dune.ko for $kver"
  echo "debian_packages: dkms built $ko"
  if [[ -n $smoke ]]; then
    cp "$ko" "$work/dune.ko"
    "$root/tests/hwbed/run_module_bed.sh" corei7_skylake_x --ko "$work/dune.ko" "$smoke" >"$work/bed.log" 2>&1 ||
      { tail -30 "$work/bed.log"; fail "the dkms-built dune.ko in the bed"; }
    grep -q "PASS module_smoke" "$work/bed.log" || { tail -30 "$work/bed.log"; fail "module_smoke did not pass on the dkms-built dune.ko"; }
    echo "debian_packages: the dkms-built dune.ko loads in the bed and module_smoke passes"
  fi
elif [[ ${DUNE_REQUIRE_HWBED:-} == 1 ]]; then
  fail "no headers of the bed's kernel ($kver) for dkms (scripts/install-deps.sh --hwbed)"
else
  echo "debian_packages: no headers of the bed's kernel: dkms build not tried"
fi

# 6. Purged: nothing of them left.
apt-get purge -y -q "${packages[@]}" >"$work/purge.log" 2>&1 || { cat "$work/purge.log"; fail "apt-get purge"; }
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "installed" && fail "$p is still installed"
done
left=$(sort -u "$work/files" | while read -r f; do [[ -f $f || -L $f ]] && echo "$f"; done || true)
[[ -z $left ]] || fail "left behind: $left"
[[ ! -e /usr/src/dune-$version && ! -e /var/lib/dkms/dune ]] || fail "dkms left /usr/src/dune-$version or /var/lib/dkms/dune"
echo "debian_packages: purged, nothing left"
