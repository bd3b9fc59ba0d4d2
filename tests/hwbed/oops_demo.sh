#!/usr/bin/env bash
# oops_demo.sh: the "deliberately broken" check, run by hand: shows that the hardware test bed's
# kernel log scan catches an oops. Builds tests/hwbed/oops_module (hwbed_oops.ko, which writes
# through a NULL pointer when loaded) for the bed's kernel the way dune.ko is built, boots the bed
# in the module backend's mode (--no-kvm --module hwbed_oops.ko --unload) with a program that only
# exits 0, and checks that the bed reports FAIL with the oops lines.
# Exit status: 0 the bed failed as it should, with the oops in its report; 1 it did not;
# 3 the bed's packages or the headers of its kernel are missing (scripts/install-deps.sh --hwbed).
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(cd "$here/../.." && pwd)
[[ $# == 0 ]] || { echo "usage: tests/hwbed/oops_demo.sh (no arguments)" >&2; exit 2; }

kver=$("$root/scripts/hwbed/run.sh" --kernel-version) || exit 3
kdir=/usr/src/linux-headers-$kver
if [[ ! -f $kdir/Makefile ]]; then
	echo "oops_demo: the headers of the bed's kernel are not installed ($kdir): scripts/install-deps.sh --hwbed" >&2
	exit 3
fi
tmp=$(mktemp -d "${TMPDIR:-/tmp}/oops-demo.XXXXXX")
trap 'rm -rf -- "$tmp"' EXIT
"$root/scripts/build-module.sh" --src "$here/oops_module" "$kdir" "$tmp/ko"
printf 'int main(void) { return 0; }\n' | gcc -static -O2 -x c -o "$tmp/exit0" -

status=0
"$root/scripts/hwbed/run.sh" --timeout 300 --no-kvm --module "$tmp/ko/hwbed_oops.ko" --unload "$tmp/exit0" \
	>"$tmp/bed.log" 2>&1 || status=$?
# The report, without the serial log that follows a failure.
sed '/^----- serial console log/,/^----- end of serial console log/d' "$tmp/bed.log"
echo
# The scan's report: its FAIL line and the indented kernel log lines under it.
awk '/^hwbed: FAIL kernel log: /{on=1; print; next} on && /^    /{print; next} {on=0}' "$tmp/bed.log" >"$tmp/scan.txt"
if ((status == 1)) && grep -q -E '^    .*(Oops|BUG:)' "$tmp/scan.txt"; then
	echo "oops_demo: OK: the bed failed (exit status 1) and its kernel log scan shows the oops:"
	cat -- "$tmp/scan.txt"
	exit 0
fi
echo "oops_demo: FAILED: the bed exited with status $status without reporting the oops in its kernel log scan" >&2
exit 1
