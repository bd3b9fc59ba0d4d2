#!/usr/bin/env bash
# scripts/hwbed/run.sh: run statically linked x86-64 programs on real hardware-virtualization KVM:
# kvm_intel (VT-x with EPT) inside a Bochs-emulated Intel CPU, or kvm_amd (AMD-V with NPT) inside
# QEMU's emulated AMD EPYC, booting Debian 12's 6.1 cloud kernel. See README.md here.
#
# usage: scripts/hwbed/run.sh [--timeout SECONDS] [--cache DIR] [--keep DIR] [--module FILE.ko]... [--env N=V]...
#                             [--no-kvm] [--unload] [--hold-open DEVICE] [--] PROG [PROG...]
#        scripts/hwbed/run.sh --kernel-version   (print the kernel release the bed boots, and exit)
#        --tree DIR copies DIR's files into the guest's root (dynamically linked programs with their
#        libraries at their own paths); a PROG may then also be a busybox sh script (#!/bin/sh).
#
# Exit status: 0 kvm_intel/kvm_amd loaded with EPT/NPT (--no-kvm: the guest CPU has VMX and EPT,
# or SVM and NPT) and every program exited 0; 1 a program, a --module, an --unload check or the
# kernel log scan failed; 2 usage error; 3 a needed package is missing (or the kernel package
# cannot be had); 4 timeout, boot failure, kernel panic, or KVM not available with EPT/NPT.
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
readonly HERE
export PATH="$PATH:/usr/sbin:/sbin"
export LC_ALL=C
# shellcheck source=lib/common.sh
source "$HERE/lib/common.sh"
# shellcheck source=lib/cpu_models.sh
source "$HERE/lib/cpu_models.sh"
# shellcheck source=lib/kernel_cache.sh
source "$HERE/lib/kernel_cache.sh"
# shellcheck source=lib/guest_init.sh
source "$HERE/lib/guest_init.sh"
# shellcheck source=lib/bochs.sh
source "$HERE/lib/bochs.sh"
# shellcheck source=lib/qemu.sh
source "$HERE/lib/qemu.sh"
# shellcheck source=lib/report.sh
source "$HERE/lib/report.sh"

# loglevel=5: warnings (WARN_ON), errors, oopses and panics reach the console, boot chatter does not.
# cryptomgr.notests: skip the crypto self-tests, which take ~9 s of the emulated boot.
kernel_cmdline="console=ttyS0,115200 panic=-1 nokaslr loglevel=5 cryptomgr.notests"

usage() {
	cat <<'EOF'
usage: scripts/hwbed/run.sh [--timeout SECONDS] [--cache DIR] [--keep DIR] [--module FILE.ko]...
                            [--env NAME=VALUE]... [--no-kvm] [--unload] [--hold-open DEVICE]
                            [--] PROG [PROG...]
       scripts/hwbed/run.sh --kernel-version

Boots Debian 12's 6.1 cloud kernel on an emulated CPU with hardware virtualization, loads its
vendor's KVM module (then each --module, in order) and runs each PROG (a statically linked x86-64
executable, no arguments) as root with /dev/kvm available. Reports PASS/FAIL per program.
  Intel (default): Bochs, VT-x with EPT, kvm_intel.  AMD (DUNE_HWBED_CPU=amd-epyc...): QEMU's
  software emulation (TCG), AMD-V with NPT, kvm_amd.

  --timeout SECONDS  wall-clock limit for the whole emulator run (default 300)
  --cache DIR        kernel cache (default ${DUNE_HWBED_CACHE:-$HOME/.cache/dune-hwbed})
  --keep DIR         keep the run's files (serial log, emulator files, initramfs, ...) in DIR
  --module FILE.ko   extra kernel module to insmod after the KVM modules (repeatable)
  --env NAME=VALUE   environment variable for every program (repeatable)
  --tree DIR         copy DIR's files into the guest's root, paths kept (repeatable): dynamically
                     linked programs and their libraries; a PROG may then be a #!/bin/sh script
  --kernel-version   print the kernel release used (build modules against its headers)

Module backend (dune.ko):
  --no-kvm           do not load kvm/kvm_intel (a --module that uses VMX itself cannot share the
                     CPU with them); the guest CPU must still show the vmx and ept flags (AMD:
                     svm and npt)
  --unload           after the programs, rmmod each --module (last loaded first): each must go
  --hold-open DEVICE with --unload: first hold DEVICE open in a background process; rmmod of the
                     last --module must be refused meanwhile
  With --no-kvm or --unload, the kernel log from the loading of the --modules on is scanned
  for Oops, BUG:, WARNING:, general protection, Call Trace, kernel BUG and RIP: (a hit fails).
  e.g. run.sh --no-kvm --module dune.ko --unload --hold-open /dev/dune PROG...

Environment: DUNE_HWBED_CACHE (cache dir), DUNE_HWBED_KERNEL (pin a release, e.g.
6.1.0-56-cloud-amd64, instead of the one linux-image-cloud-amd64 depends on),
DUNE_HWBED_APPEND (extra kernel command-line arguments, e.g. loglevel=8 for a full boot log),
DUNE_HWBED_CPUS (emulated CPUs, default 1; 2 to measure what needs a second CPU),
DUNE_HWBED_CPU (the CPU: a Bochs model, default corei7_skylake_x, e.g. broadwell_ult; or
amd-epyc, amd-epyc-rome, amd-epyc-milan for QEMU's EPYC, EPYC-Rome, EPYC-Milan).
Exit status: 0 all passed, 1 a program failed, 2 usage, 3 missing package, 4 timeout/boot failure.
EOF
}

t_start=$(now_us)
# ---------------------------------------------------------------------------------------------
# Arguments
timeout_s=300
cache_dir=${DUNE_HWBED_CACHE:-${HOME:-/tmp}/.cache/dune-hwbed}
keep_dir=""
cpu_model=${DUNE_HWBED_CPU:-corei7_skylake_x}
print_kver=0
no_kvm=0
unload=0
hold_dev=""
modules=()
progs=()
envs=()
trees=()
need_value() { (($1 >= 2)) || usage_error "$2 needs a value"; }
while (($#)); do
	case $1 in
	--timeout) need_value $# "$1"; timeout_s=$2; shift 2 ;;
	--timeout=*) timeout_s=${1#*=}; shift ;;
	--cache) need_value $# "$1"; cache_dir=$2; shift 2 ;;
	--cache=*) cache_dir=${1#*=}; shift ;;
	--keep) need_value $# "$1"; keep_dir=$2; shift 2 ;;
	--keep=*) keep_dir=${1#*=}; shift ;;
	--module) need_value $# "$1"; modules+=("$2"); shift 2 ;;
	--module=*) modules+=("${1#*=}"); shift ;;
	--env) need_value $# "$1"; envs+=("$2"); shift 2 ;;
	--env=*) envs+=("${1#*=}"); shift ;;
	--tree) need_value $# "$1"; trees+=("$2"); shift 2 ;;
	--tree=*) trees+=("${1#*=}"); shift ;;
	--kernel-version) print_kver=1; shift ;;
	--no-kvm) no_kvm=1; shift ;;
	--unload) unload=1; shift ;;
	--hold-open) need_value $# "$1"; hold_dev=$2; shift 2 ;;
	--hold-open=*) hold_dev=${1#*=}; shift ;;
	-h | --help) usage; exit 0 ;;
	--) shift; progs+=("$@"); break ;;
	-*) usage_error "unknown option: $1" ;;
	*) progs+=("$1"); shift ;;
	esac
done
bed_cpus=${DUNE_HWBED_CPUS:-1}
[[ $bed_cpus =~ ^[1-8]$ ]] || usage_error "DUNE_HWBED_CPUS wants 1 to 8, not '$bed_cpus'"
[[ $timeout_s =~ ^[1-9][0-9]*$ ]] || usage_error "--timeout wants a positive whole number of seconds, not '$timeout_s'"
[[ -n $cache_dir ]] || usage_error "--cache wants a directory"
for e in "${envs[@]}"; do
	[[ $e =~ ^[A-Za-z_][A-Za-z0-9_]*=.*$ ]] || usage_error "--env wants NAME=VALUE, not '$e'"
done
if ((!print_kver)); then
	((${#progs[@]})) || usage_error "no program given"
fi
if [[ -n $hold_dev ]]; then
	((unload)) || usage_error "--hold-open needs --unload"
	((${#modules[@]})) || usage_error "--hold-open needs a --module (the one that provides $hold_dev)"
	# It is written into the guest's shell script: a plain absolute path only.
	[[ $hold_dev =~ ^/[A-Za-z0-9._/+-]+$ ]] || usage_error "--hold-open wants an absolute device path, not '$hold_dev'"
fi
# The kernel log is scanned in the module backend's runs (see usage).
scan_klog=$((no_kvm || unload))

for t in "${trees[@]}"; do
	[[ -d $t && -r $t ]] || usage_error "--tree wants a readable directory: $t"
done
# Programs: regular readable x86-64 ELF files without a program interpreter (static), or with
# --tree, busybox sh scripts.
prog_names=()
for p in "${progs[@]}"; do
	[[ -f $p && -r $p ]] || usage_error "program not found or unreadable: $p"
	if ((${#trees[@]})) && [[ $(head -c 9 -- "$p") == '#!/bin/sh' ]]; then
		prog_names+=("$(basename -- "$p" | tr -c 'A-Za-z0-9._+\n-' _)")
		continue
	fi
	magic=$(od -An -tx1 -N20 -- "$p" | tr -d ' \n')
	[[ ${magic:0:10} == 7f454c4602 && ${magic:36:4} == 3e00 ]] || usage_error "not an x86-64 ELF executable: $p"
	if command -v readelf >/dev/null && readelf -lW -- "$p" 2>/dev/null | grep -q 'program interpreter'; then
		usage_error "dynamically linked (build it with -static): $p"
	fi
	# A shell-safe, unique name inside the guest.
	name=$(basename -- "$p")
	name=${name//[^A-Za-z0-9._+-]/_}
	base=$name
	n=1
	while [[ " ${prog_names[*]-} " == *" $name "* ]]; do
		n=$((n + 1))
		name=$base.$n
	done
	prog_names+=("$name")
done
module_names=() # file names in the initramfs
module_knames=() # the kernel's names, for rmmod
for m in "${modules[@]}"; do
	[[ -f $m && -r $m ]] || usage_error "module not found or unreadable: $m"
	case $m in
	*.ko | *.ko.xz | *.ko.zst | *.ko.gz) ;;
	*) usage_error "--module wants a .ko file (optionally .xz/.zst/.gz): $m" ;;
	esac
	name=$(basename -- "$m")
	name=${name%%.ko*}
	name=${name//[^A-Za-z0-9_-]/_}
	module_names+=("$name")
	# Kbuild records the name in .modinfo; failing that, rmmod takes the file's name with '_' for '-'.
	kname=$(readelf -p .modinfo -- "$m" 2>/dev/null | sed -n 's/^ *\[ *[0-9a-f]*\] *name=\([A-Za-z0-9_]*\)$/\1/p' | sed -n 1p || true)
	module_knames+=("${kname:-${name//-/_}}")
done

select_cpu_model "$cpu_model"
kernel_cmdline+=${DUNE_HWBED_APPEND:+ $DUNE_HWBED_APPEND}

# ---------------------------------------------------------------------------------------------
# Kernel and packages
kver=$(resolve_kernel)
if [[ -z $kver ]]; then
	say "cannot find the kernel package (apt-cache depends linux-image-cloud-amd64 gives nothing); run: apt-get update" >&2
	exit 3
fi
if ((print_kver)); then
	printf '%s\n' "$kver"
	exit 0
fi
kdir=$cache_dir/kernel-$kver
check_packages "$emulator"
cache_ok || fetch_kernel

# ---------------------------------------------------------------------------------------------
# Work directory, and killing what we started
work=$(mktemp -d "${TMPDIR:-/tmp}/hwbed.XXXXXX")

# shellcheck disable=SC2317 # called from the EXIT trap
cleanup() {
	stop_bed
	if [[ -n $keep_dir && -d $work ]]; then
		mkdir -p -- "$keep_dir"
		local f files
		if [[ $emulator == qemu ]]; then files=("${qemu_files[@]}"); else files=("${bochs_files[@]}"); fi
		for f in serial.log init initrd.cpio report.txt "${files[@]}"; do
			[[ -e $work/$f ]] && mv -f -- "$work/$f" "$keep_dir/$f"
		done
	fi
	rm -rf -- "$work"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

build_initramfs
"${emulator}_prepare"
: >"$work/serial.log"

t_prep=$(now_us)
say "kernel $kver, ${#progs[@]} program(s), timeout ${timeout_s}s, prepared in $(fmt_s $((t_prep - t_start)))s; booting $emulator_name $cpu_model"

# ---------------------------------------------------------------------------------------------
# Run the emulator, watching the serial log
"${emulator}_start"
deadline=$((t_prep + timeout_s * 1000000))
# A normal boot takes ~10 s; one that has not reached /init after 120 s is stuck (fail early).
boot_deadline=$((t_prep + 120 * 1000000))
outcome=running # -> done, exited, timeout, panic, reboot
t_boot=""
t_done=""
declare -A mark_t=() # "KIND NAME" -> host time (us) the marker line reached the serial log
n_marks=0
# Timestamp the complete marker lines (the console ends lines with CR LF) that appeared since the
# last poll, and show the main ones as progress.
scan_marks() {
	local marks k key el
	mapfile -t marks < <(grep -a -o $'@@HWBED [^\r]*\r' "$work/serial.log" 2>/dev/null || true)
	for ((k = n_marks; k < ${#marks[@]}; k++)); do
		read -r _ key el _ <<<"${marks[k]%$'\r'}" || true
		key="$key${el:+ $el}"
		[[ -n ${mark_t[$key]-} ]] || mark_t[$key]=$1
		el=$(fmt_s $(($1 - t_prep)))
		case $key in
		BOOTED*) t_boot=$1; say "+${el}s guest booted" ;;
		"MODULE "* | "BEGIN "* | "HOLD "* | "UNLOAD "* | "KLOGSCAN "*) say "+${el}s ${marks[k]#@@HWBED }" ;;
		"END "*) say "+${el}s ${marks[k]#@@HWBED }" ;;
		DONE*) t_done=$1; outcome="done" ;;
		esac
	done
	n_marks=${#marks[@]}
}
while alive "$bed_pid"; do
	now=$(now_us)
	scan_marks "$now"
	if [[ -n $t_done ]] && ((now - t_done > 10000000)); then
		break # powered off but the emulator did not exit
	fi
	if grep -q -e 'Kernel panic - not syncing' "$work/serial.log"; then
		outcome=panic
		sleep 1 # let the panic message reach the log
		break
	fi
	if (($(grep -c 'Linux version' "$work/serial.log") > 1)); then
		outcome=reboot # panic=-1 or triple fault: the guest started again
		break
	fi
	if ((now >= deadline)); then
		outcome=timeout
		break
	fi
	if [[ -z $t_boot ]] && ((now >= boot_deadline)); then
		outcome=noboot
		break
	fi
	sleep 0.2
done
scan_marks "$(now_us)"
stop_bed
if [[ $outcome == running ]]; then
	# The emulator stopped by itself before /init finished.
	if grep -q 'Kernel panic - not syncing' "$work/serial.log"; then
		outcome=panic
	else
		outcome=$("${emulator}_stopped_outcome")
	fi
fi
t_end=$(now_us)

# ---------------------------------------------------------------------------------------------
# Report
parse_serial
report >"$work/report.txt"
cat "$work/report.txt"
bed_ok=0
[[ $outcome == "done" ]] && bed_ok=1

# Keep the serial log: in --keep DIR, else as the cache's last-serial.log.
if [[ -n $keep_dir ]]; then
	log_path=$keep_dir/serial.log
else
	cp -- "$work/serial.log" "$cache_dir/.serial.$$"
	mv -f -- "$cache_dir/.serial.$$" "$cache_dir/last-serial.log"
	log_path=$cache_dir/last-serial.log
fi
if ((!bed_ok || !kvm_ok || failed)); then
	printf -- '----- serial console log (%s) -----\n' "$log_path"
	sed 's/\r$//' "$work/serial.log"
	printf -- '----- end of serial console log -----\n'
	if [[ $outcome != "done" && $outcome != timeout ]] || [[ -z $t_boot ]]; then
		"${emulator}_log_tail"
	fi
fi

say "serial log: $log_path"
boot_txt=${t_boot:+$(fmt_s $((t_boot - t_prep)))s}
say "wall time: total $(fmt_s $((t_end - t_start)))s (prepare $(fmt_s $((t_prep - t_start)))s, boot ${boot_txt:-n/a}, $emulator_name $(fmt_s $((t_end - t_prep)))s)"
say "$passed passed, $failed failed"

if ((!bed_ok || !kvm_ok)); then
	exit 4
elif ((failed)); then
	exit 1
fi
exit 0
