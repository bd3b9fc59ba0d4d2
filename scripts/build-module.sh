#!/usr/bin/env bash
# build-module.sh [--src DIR] KDIR OUTDIR: builds an out-of-tree kernel module (default: kernel/,
# dune.ko) against the kernel build directory KDIR, outside the source tree: a fresh copy of DIR's
# Kbuild and sources goes to OUTDIR/kbuild, kbuild builds it there with W=1, and each resulting
# .ko is copied to OUTDIR. Any "warning:" in kbuild's output (GCC's W=1 warnings, objtool's, which
# kbuild prints at any W level, modpost's) fails the build. CMake's DUNE_BUILD_KERNEL_MODULE and
# the hwbed.module test use it.
# Exit status: 0 built; 1 build failed or warned; 2 usage or KDIR/DIR not usable.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)

usage() {
	sed -n '2,8p' "$0" | sed 's/^# \{0,1\}//'
}
die_usage() {
	printf 'build-module.sh: %s (see --help)\n' "$*" >&2
	exit 2
}

src=$root/kernel
args=()
while (($#)); do
	case $1 in
	--src) (($# >= 2)) || die_usage "--src needs a directory"; src=$2; shift 2 ;;
	--src=*) src=${1#*=}; shift ;;
	-h | --help) usage; exit 0 ;;
	-*) die_usage "unknown option: $1" ;;
	*) args+=("$1"); shift ;;
	esac
done
((${#args[@]} == 2)) || die_usage "want KDIR and OUTDIR"
kdir=${args[0]}
out=${args[1]}
[[ -f $kdir/Makefile ]] || {
	echo "build-module.sh: KDIR=$kdir is not a kernel build directory (no Makefile there); install the" \
		"kernel's headers (Debian: apt-get install linux-headers-RELEASE, or scripts/install-deps.sh --hwbed" \
		"for the test bed's kernel)" >&2
	exit 2
}
[[ -f $src/Kbuild ]] || { echo "build-module.sh: $src has no Kbuild file" >&2; exit 2; }
command -v make >/dev/null || { echo "build-module.sh: make is not installed (apt-get install make)" >&2; exit 2; }

# Sources only: an in-tree `make` in DIR leaves objects, .cmd files and a .mod.c beside them.
mkdir -p -- "$out"
out=$(cd -- "$out" && pwd)
copy=$out/kbuild
# No module of an earlier build survives a failed one.
rm -rf -- "$copy" "$out"/*.ko
mkdir -p -- "$copy"
(
	cd -- "$src"
	files=(Kbuild)
	mapfile -t -O 1 files < <(find . -mindepth 1 \( -name '.*' -prune \) -o -type f \
		\( -name '*.c' -o -name '*.h' -o -name '*.S' -o -name '*.lds' \) ! -name '*.mod.c' -printf '%P\n' | sort)
	cp --parents -- "${files[@]}" "$copy/"
)

# Not the caller's make jobserver (CMake's make): kbuild would warn that it cannot use it.
log=$out/kbuild.log
status=0
env -u MAKEFLAGS -u MFLAGS -u MAKELEVEL make -C "$kdir" M="$copy" W=1 modules >"$log" 2>&1 || status=$?
if ((status)); then
	cat -- "$log" >&2
	echo "build-module.sh: FAILED: kbuild exited with status $status (log: $log)" >&2
	exit 1
fi
if grep -i 'warning:' "$log" >"$out/kbuild.warnings"; then
	cat -- "$log" >&2
	echo "build-module.sh: FAILED: the build warned (W=1; warnings are errors here):" >&2
	cat -- "$out/kbuild.warnings" >&2
	exit 1
fi
mapfile -t kos < <(cd -- "$copy" && find . -maxdepth 1 -name '*.ko' -printf '%P\n')
((${#kos[@]})) || { echo "build-module.sh: FAILED: kbuild made no .ko in $copy" >&2; exit 1; }
for ko in "${kos[@]}"; do
	# Atomically, so that a reader (the bed) never sees half a module.
	cp -- "$copy/$ko" "$out/.$ko.tmp"
	mv -f -- "$out/.$ko.tmp" "$out/$ko"
	echo "build-module.sh: built $out/$ko against $kdir (kbuild log: $log)"
done
