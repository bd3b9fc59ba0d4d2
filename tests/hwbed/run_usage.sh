#!/usr/bin/env bash
# run_usage.sh STATIC_PROG: scripts/hwbed/run.sh refuses bad input with one clear
# line and exit status 2, before it boots anything (no emulator needed).
set -u
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
run=$root/scripts/hwbed/run.sh
prog=$1
failed=0

# expect WANT_TEXT [VAR=VALUE...] -- ARG...: exit 2 and WANT_TEXT on stderr.
expect() {
	local want=$1 envs=() out status
	shift
	while [[ $1 != -- ]]; do envs+=("$1"); shift; done
	shift
	out=$(env "${envs[@]}" "$run" "$@" 2>&1 >/dev/null)
	status=$?
	if [[ $status == 2 && $out == *"$want"* && $(wc -l <<<"$out") == 1 ]]; then
		echo "ok: run.sh $* -> $out"
	else
		echo "FAIL: run.sh ${envs[*]} $*: status $status, wanted 2 and one line with '$want'; got: $out"
		failed=1
	fi
}

expect "no program given" --
expect "--timeout wants a positive whole number" -- --timeout 0 "$prog"
expect "program not found" -- /nonexistent/prog
expect "dynamically linked" -- /bin/true
expect "--env wants NAME=VALUE" -- --env 1X=2 "$prog"
expect "--hold-open needs --unload" -- --hold-open /dev/dune "$prog"
expect "unknown option: --frobnicate" -- --frobnicate "$prog"
expect "--tree wants a readable directory" -- --tree /nonexistent/dir "$prog"
work_script=$(mktemp)
trap 'rm -f -- "$work_script"' EXIT
printf '#!/bin/sh\necho hi\n' >"$work_script"
expect "not an x86-64 ELF executable" -- "$work_script"
expect "unknown AMD CPU model 'amd-k6'" DUNE_HWBED_CPU=amd-k6 -- "$prog"
expect "DUNE_HWBED_CPU wants a Bochs CPU model or amd-epyc*" "DUNE_HWBED_CPU=a;b" -- "$prog"
exit $failed
