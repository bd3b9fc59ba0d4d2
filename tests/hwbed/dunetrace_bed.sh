#!/usr/bin/env bash
# dunetrace_bed.sh CPU DUNETRACE PROGRAMS_DIR: dunetrace itself, in Dune mode, on the hardware bed
# (where this machine may have no /dev/kvm): the dynamically linked dunetrace, its shim and
# libraries, strace and a few coreutils go into the bed's root (run.sh --tree); a guest script
# runs each case under `strace -ff` and under `dunetrace -f -e syscall` (strict Dune mode) and
# prints both traces on the console; strace_parity.py then compares them here, as it compares a
# host's runs (>= 90 % of dunetrace's syscall lines must be strace's).
# A missing emulator is a skip (77) unless DUNE_REQUIRE_HWBED=1 or DUNE_REQUIRE_KVM=1.
# DUNETRACE_BED_KEEP=DIR keeps the console's traces (DIR/traces.log); DUNETRACE_BED_BENCH=N also
# measures, in the bed, what tracing adds per syscall (bench/syscall_heavy, N getppid calls, five
# ways interleaved for three rounds: bench/dunetrace_overhead.py's ways) and prints the medians.
set -euo pipefail
cpu=$1 dunetrace=$2 programs=$3
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
work=$(mktemp -d)
trap 'rm -rf -- "$work"' EXIT
tree=$work/tree
mkdir -p "$tree"

# A file in the tree at DEST (default: its own path), symlinks resolved.
put() {
  local dest=${2:-$1}
  mkdir -p "$tree$(dirname -- "$dest")"
  cp -L -- "$1" "$tree$dest"
}
# A program (at DEST), its program interpreter and its libraries (at their own paths).
put_with_libs() {
  local lib
  put "$1" "${2:-}"
  while read -r lib; do
    [[ -n $lib ]] && put "$lib"
  done < <(ldd "$1" | awk '/=> \//{print $3} /^[ \t]*\/lib64/{print $1}')
}
build=$(readlink -f -- "$(dirname -- "$dunetrace")/../..")
shim=$build/preload/libdune_preload.so
[[ -r $shim ]] || { echo "dunetrace_bed: the shim is not at $shim"; exit 1; }
# The build tree's files go under /hwbed/build, in the same layout (dunetrace finds its shim by
# it): not at their own paths, which may be under /tmp, a tmpfs of its own in the guest.
gbuild=/hwbed/build
gdunetrace=$gbuild/tools/dunetrace/dunetrace
gshim=$gbuild/preload/libdune_preload.so
gprograms=$gbuild/tests/dunetrace/bin
gheavy=$gbuild/bench/syscall_heavy
strip --strip-debug -o "$work/dunetrace" -- "$dunetrace"
put_with_libs "$dunetrace" "$gdunetrace"
cp -- "$work/dunetrace" "$tree$gdunetrace"
put_with_libs "$shim" "$gshim"
for p in cat sort ls wc dash strace; do put_with_libs "$(command -v "$p")"; done
for p in getppid_loop forks_threads signals ring_stress net_io ipc_misc; do put_with_libs "$programs/$p" "$gprograms/$p"; done
bench_calls=${DUNETRACE_BED_BENCH:-0}
ring_threads=3 ring_calls=1500
((bench_calls > 0)) && put_with_libs "$build/bench/syscall_heavy" "$gheavy"
mkdir -p "$tree/hwbed/data"
seq 1 300 | sed 's/^/line /' >"$tree/hwbed/data/lines.txt"
cp /etc/services "$tree/hwbed/data/services"

# The guest's part: every case twice, each trace printed with a prefix.
cat >"$work/dunetrace_cases.sh" <<GUEST
#!/bin/sh
export PATH=/usr/bin:/bin
D=/hwbed/data
cases() {
  echo "cat|\$(command -v cat) \$D/lines.txt"
  echo "sort|\$(command -v sort) -r \$D/services"
  echo "ls|\$(command -v ls) -la \$D"
  echo "sh|\$(command -v dash) -c 'cat \$D/lines.txt | wc -l; true; exit 3'"
  echo "getppid_loop|$gprograms/getppid_loop 200"
  echo "forks_threads|$gprograms/forks_threads"
  echo "signals|$gprograms/signals handled"
  echo "net_io|$gprograms/net_io"
  echo "ipc_misc|$gprograms/ipc_misc"
}
mkdir -p /tmp/st /tmp/dt
cases | while IFS='|' read -r name cmd; do
  # DUNE_STRICT=1 for strace too: both runs have the same environment (execve's /* N vars */).
  eval "DUNE_STRICT=1 strace -ff -qq -s 32 -o /tmp/st/\$name \$cmd" >/dev/null 2>&1 </dev/null
  eval "DUNE_STRICT=1 $gdunetrace -f -e syscall -o /tmp/dt/\$name \$cmd" >/dev/null 2>/tmp/dt/\$name.err </dev/null
  echo "@@DT STATUS \$name \$?"
  for f in /tmp/st/\$name.*; do sed "s|^|@@ST \$name \${f##*.} |" "\$f"; done
  sed "s|^|@@DT \$name |" /tmp/dt/\$name
  sed "s|^|@@DTERR \$name |" /tmp/dt/\$name.err
done
# The ring: more records at once than it holds, from 6 threads of 2 processes; every line must come.
DUNE_STRICT=1 $gdunetrace -f -e trace=getpgid -o /tmp/dt/ring $gprograms/ring_stress $ring_threads $ring_calls
echo "@@DT STATUS ring \$?"
sed "s|^|@@DTR |" /tmp/dt/ring
# -y: each descriptor's file, read by the shim in Dune mode.
DUNE_STRICT=1 $gdunetrace -y -e trace=openat,read,write -o /tmp/dt/y \$(command -v cat) \$D/lines.txt >/dev/null
sed "s|^|@@DTY |" /tmp/dt/y
if [ $bench_calls -gt 0 ]; then
  for round in 1 2 3; do
    echo "@@BENCH native \$($gheavy $bench_calls)"
    echo "@@BENCH strace \$(strace -o /tmp/bench.st $gheavy $bench_calls)"
    echo "@@BENCH shim \$(LD_PRELOAD=$gshim DUNE_STRICT=1 $gheavy $bench_calls)"
    echo "@@BENCH dunetrace_syscall \$(DUNE_STRICT=1 $gdunetrace -e syscall -o /tmp/bench.dt $gheavy $bench_calls)"
    echo "@@BENCH dunetrace_c \$(DUNE_STRICT=1 $gdunetrace -c -o /tmp/bench.dtc $gheavy $bench_calls)"
  done
fi
echo "@@DT DONE"
GUEST
chmod 0755 "$work/dunetrace_cases.sh"

set +e
DUNE_HWBED_CPU=$cpu "$root/scripts/hwbed/run.sh" --timeout 900 --keep "$work/keep" --tree "$tree" \
  "$work/dunetrace_cases.sh"
status=$?
set -e
if ((status == 3)) && [[ ${DUNE_REQUIRE_HWBED:-} != 1 && ${DUNE_REQUIRE_KVM:-} != 1 ]]; then
  echo "dunetrace_bed: SKIP: the hardware test bed's packages are missing (scripts/install-deps.sh --hwbed)"
  exit 77
fi
log=$work/keep/serial.log
[[ -r $log ]] || { echo "dunetrace_bed: no serial log (run.sh status $status)"; exit 1; }
grep -a '^@@DTERR' "$log" | head -20 || true
grep -q -a '^@@DT DONE' "$log" || { echo "dunetrace_bed: the guest script did not finish (run.sh status $status)"; exit 1; }
((status == 0)) || { echo "dunetrace_bed: run.sh status $status"; exit 1; }
tr -d '\r' <"$log" >"$work/traces.log"
[[ -z ${DUNETRACE_BED_KEEP:-} ]] || { mkdir -p "$DUNETRACE_BED_KEEP" && cp "$work/traces.log" "$DUNETRACE_BED_KEEP/"; }
# -y in Dune mode: the file of the descriptor read and of the one written.
grep -a -q -E '^@@DTY read\(3</hwbed/data/lines.txt>, "line 1\\nline 2' "$work/traces.log" &&
  grep -a -q -E '^@@DTY openat\(AT_FDCWD, "/hwbed/data/lines.txt", O_RDONLY\) += 3</hwbed/data/lines.txt>$' "$work/traces.log" || {
  echo "dunetrace_bed: -y did not name the files:"
  grep -a '^@@DTY' "$work/traces.log" | head -20
  exit 1
}
grep -a '^@@DTY' "$work/traces.log" | sed 's/^@@DTY /  -y: /' | head -8
# The ring case: per thread, getpgid(0) .. getpgid(N-1), each once and in order.
awk -v threads=$ring_threads -v calls=$ring_calls '
  /^@@DT STATUS ring / { status = $4 }
  /^@@DTR / && /getpgid\(/ {
    if (!match($0, /tid [0-9]+\]/)) { bad++; next }
    tid = substr($0, RSTART + 4, RLENGTH - 5)
    match($0, /getpgid\([0-9]+\)/)
    k = substr($0, RSTART + 8, RLENGTH - 9) + 0
    if (k != next_of[tid] + 0) { if (bad++ < 5) print "  thread " tid ": getpgid(" k ") where getpgid(" next_of[tid] + 0 ") was due" }
    next_of[tid] = k + 1; lines++
  }
  END {
    n = 0; for (t in next_of) n++
    printf "ring: %d getpgid lines from %d threads (want %d from %d), %d out of order, status %s\n", lines, n, 2 * threads * calls, 2 * threads, bad, status
    exit !(status == 0 && bad == 0 && n == 2 * threads && lines == 2 * threads * calls)
  }' "$work/traces.log" || { echo "dunetrace_bed: the ring case lost or reordered lines"; exit 1; }
if ((bench_calls > 0)); then
  echo "In the bed: $bench_calls getppid calls of bench/syscall_heavy, three rounds; median cycles per call:"
  for way in native strace shim dunetrace_syscall dunetrace_c; do
    printf '  %-18s %s\n' "$way" "$(grep -a "^@@BENCH $way " "$work/traces.log" | sed -n 's/.*median=\([0-9]*\).*/\1/p' | tr '\n' ' ')"
  done
fi
python3 "$root/tests/dunetrace/strace_parity.py" --tracer bed-log --tool "$work/traces.log" --programs "$programs" --show 40
