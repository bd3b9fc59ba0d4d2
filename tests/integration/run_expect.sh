#!/usr/bin/env bash
# run_expect.sh EXPECTED PROGRAM [ARGS...]: runs PROGRAM and passes when its
# stdout is exactly EXPECTED and it exits 0. Exit 77 (skip) passes through.
set -u
expected=$1
shift
out=$(mktemp)
trap 'rm -f "$out"' EXIT
"$@" >"$out"
status=$?
if [ "$status" -eq 77 ]; then exit 77; fi
if ! diff -u "$expected" "$out"; then
  echo "run_expect: stdout of $1 differs from $expected" >&2
  exit 1
fi
if [ "$status" -ne 0 ]; then
  echo "run_expect: $1 exited with status $status" >&2
  exit 1
fi
