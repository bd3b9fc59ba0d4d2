#!/usr/bin/env bash
# run_storm.sh STORM_LIB [--expect FILE] [--native-too] PROGRAM: runs an integration
# program in Dune mode with a CPU-time timer signal firing from start to end
# (STORM_LIB preloaded, tests/support/sigstorm.c). Passes when it exits 0, with
# --expect when its stdout is exactly FILE, and with --native-too when the same
# program run natively (--native) under the same signals prints the same stdout
# and exits the same. Says how many signals Dune mode delivered (DUNE_STATS).
# Exit 77 (skip) passes through.
set -u
storm=$1
shift
expect=""
native_too=0
while (($#)); do
  case $1 in
    --expect) expect=$2; shift 2 ;;
    --native-too) native_too=1; shift ;;
    *) break ;;
  esac
done
prog=$1
name=$(basename "$prog")
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
LD_PRELOAD=$storm DUNE_STATS="$work/stats.%p.json" "$prog" >"$work/dune.out"
status=$?
cat "$work/dune.out"
if ((status == 77)); then exit 77; fi
fail=0
if ((status != 0)); then
  echo "run_storm: $name exited with status $status under the timer signals" >&2
  fail=1
fi
if [[ -n $expect ]] && ! diff -u "$expect" "$work/dune.out"; then
  echo "run_storm: stdout of $name differs from $expect" >&2
  fail=1
fi
if ((native_too)); then
  LD_PRELOAD=$storm "$prog" --native >"$work/native.out"
  nstatus=$?
  if ((nstatus != status)) || ! diff -u "$work/native.out" "$work/dune.out"; then
    echo "run_storm: $name in Dune mode (status $status) differs from its native run (status $nstatus)" >&2
    fail=1
  fi
fi
signals=$(cat "$work"/stats.*.json 2>/dev/null | sed -n 's/.*"signals_delivered":\([0-9]*\).*/\1/p' |
  awk '{n += $1} END {print n + 0}')
echo "run_storm: $name: $signals signals delivered in Dune mode"
exit $fail
