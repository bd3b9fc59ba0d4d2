# shellcheck shell=bash
# scripts/hwbed/lib/common.sh: messages, clocks, and the processes a bed run started.
# Sourced by run.sh.

say() { printf 'hwbed: %s\n' "$*"; }
now_us() { local t=${EPOCHREALTIME//[.,]/}; printf '%s\n' "$((10#$t))"; }
fmt_s() { printf '%d.%d' $(($1 / 1000000)) $((($1 / 100000) % 10)); }
usage_error() {
	printf 'hwbed: %s (see --help)\n' "$*" >&2
	exit 2
}

# Descendants of a pid, found through /proc (no procps needed).
descendants() {
	local parent=$1 stat pid rest ppid kids=()
	for stat in /proc/[0-9]*/stat; do
		IFS= read -r rest 2>/dev/null <"$stat" || continue
		pid=${rest%% *}
		rest=${rest##*) } # after the command name
		ppid=${rest#* }
		ppid=${ppid%% *}
		[[ $ppid == "$parent" ]] && kids+=("$pid")
	done
	for pid in "${kids[@]}"; do
		descendants "$pid"
		printf '%s\n' "$pid"
	done
}

alive() { kill -0 "$@" 2>/dev/null; }

# True if one of the pids is a live process (not gone, not a zombie).
running() {
	local p st
	for p; do
		IFS= read -r st 2>/dev/null <"/proc/$p/stat" || continue
		st=${st##*) }
		[[ ${st:0:1} != Z ]] && return 0
	done
	return 1
}

# Stop the emulator: bed_pid (the emulator, or Bochs' `script` wrapper) and what runs under it.
# The leaves go first, with SIGKILL: Bochs ignores SIGTERM while it emulates (seen), and neither
# emulator has anything to save (the serial log is written as it goes). A wrapper then sees its
# child gone and exits by itself; failing that it gets TERM, then KILL. Only these pids are
# signalled. Sets bed_status to the emulator's (or wrapper's) exit status.
bed_pid=""
bed_status=""
stop_bed() {
	[[ -n $bed_pid ]] || return 0
	local pids i
	mapfile -t pids < <(descendants "$bed_pid")
	((${#pids[@]})) && { kill -KILL "${pids[@]}" 2>/dev/null || true; }
	for ((i = 0; i < 30; i++)); do
		running "$bed_pid" || break
		sleep 0.1
	done
	if running "$bed_pid"; then
		kill -TERM "$bed_pid" 2>/dev/null || true
		sleep 0.5
		kill -KILL "$bed_pid" 2>/dev/null || true
	fi
	bed_status=0
	wait "$bed_pid" 2>/dev/null || bed_status=$?
	bed_pid=""
}
