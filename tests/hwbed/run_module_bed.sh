#!/usr/bin/env bash
# run_module_bed.sh CPU_MODEL [--ko FILE] [run.sh OPTION...] PROG...: hwbed.module, the kernel
# module backend in the hardware test bed. In Bochs (CPU_MODEL), dune.ko is loaded instead of
# kvm_intel (both want VMX), the programs run with DUNE_BACKEND=module DUNE_STRICT=1, then rmmod
# must be refused while a process holds /dev/dune open, rmmod must succeed after, and the kernel
# log must be free of oopses and warnings: scripts/hwbed/run.sh --no-kvm --unload --hold-open
# /dev/dune, through run_bed.sh.
# dune.ko: FILE when it was built for the bed's kernel (CMake's DUNE_BUILD_KERNEL_MODULE), else
# built here (scripts/build-module.sh) against /usr/src/linux-headers-RELEASE of that kernel.
# Missing Bochs or headers: a skip (77), a failure under DUNE_REQUIRE_HWBED=1 or DUNE_REQUIRE_KVM=1.
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(cd "$here/../.." && pwd)

skip_or_fail() {
	if [[ ${DUNE_REQUIRE_HWBED:-} == 1 || ${DUNE_REQUIRE_KVM:-} == 1 ]]; then
		echo "run_module_bed: FAIL: $* (a skip, but DUNE_REQUIRE_HWBED or DUNE_REQUIRE_KVM is 1)" >&2
		exit 1
	fi
	echo "run_module_bed: SKIP: $*"
	exit 77
}

# The rest of the arguments go to scripts/hwbed/run.sh, which checks them.
usage() {
	echo "usage: run_module_bed.sh CPU_MODEL [--ko FILE] [run.sh OPTION...] PROG..." >&2
	exit 2
}
(($#)) || usage
cpu=$1
shift
ko=""
case ${1-} in
--ko) (($# >= 2)) || { echo "run_module_bed: --ko needs a file" >&2; exit 2; }; ko=$2; shift 2 ;;
--ko=*) ko=${1#*=}; shift ;;
esac
(($#)) || usage

kver=$("$root/scripts/hwbed/run.sh" --kernel-version) ||
	skip_or_fail "cannot tell which kernel the bed boots (scripts/hwbed/run.sh --kernel-version)"
vermagic() { grep -a -o -m 1 'vermagic=[^ ]*' -- "$1" | sed -n '1s/^vermagic=//p' || true; }

tmp=""
trap '[[ -z $tmp ]] || rm -rf -- "$tmp"' EXIT
if [[ -n $ko && -f $ko && $(vermagic "$ko") == "$kver" ]]; then
	module=$ko
else
	if [[ -n $ko ]]; then
		echo "run_module_bed: $ko is missing or not built for $kver; building dune.ko for the bed"
	fi
	kdir=/usr/src/linux-headers-$kver
	[[ -f $kdir/Makefile ]] ||
		skip_or_fail "the headers of the bed's kernel are not installed ($kdir; scripts/install-deps.sh --hwbed)"
	tmp=$(mktemp -d "${TMPDIR:-/tmp}/module-bed.XXXXXX")
	"$root/scripts/build-module.sh" "$kdir" "$tmp"
	module=$tmp/dune.ko
fi

status=0
"$here/run_bed.sh" "$cpu" --no-kvm --module "$module" --unload --hold-open /dev/dune \
	--env DUNE_BACKEND=module --env DUNE_STRICT=1 --env DUNE_TEST_EXPECT_FLAVOUR=dune-module "$@" || status=$?
exit $status
