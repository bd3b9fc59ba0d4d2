#!/usr/bin/env bash
# scripts/hwbed/run.sh: run statically linked x86-64 programs on real kvm_intel (VT-x with EPT),
# inside a Bochs-emulated Intel CPU booting Debian 12's 6.1 cloud kernel. See README.md here.
#
# usage: scripts/hwbed/run.sh [--timeout SECONDS] [--cache DIR] [--keep DIR] [--module FILE.ko]... [--env N=V]...
#                             [--no-kvm] [--unload] [--hold-open DEVICE] [--] PROG [PROG...]
#        scripts/hwbed/run.sh --kernel-version   (print the kernel release the bed boots, and exit)
#
# Exit status: 0 kvm_intel loaded with EPT (--no-kvm: the guest CPU has VMX and EPT) and every
# program exited 0; 1 a program, a --module, an --unload check or the kernel log scan failed;
# 2 usage error; 3 a needed package is missing (or the kernel package cannot be had);
# 4 timeout, boot failure, kernel panic, or KVM not available with EPT in the guest.
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
readonly HERE
export PATH="$PATH:/usr/sbin:/sbin"
export LC_ALL=C

# Bochs geometry: 16 heads x 63 sectors of 512 bytes per cylinder.
readonly CYL_BYTES=$((16 * 63 * 512))
readonly MIN_CYLINDERS=130 # 130 cylinders = 65520 KiB, the 64 MiB disk of PLATFORM.md
# loglevel=5: warnings (WARN_ON), errors, oopses and panics reach the console, boot chatter does not.
# cryptomgr.notests: skip the crypto self-tests, which take ~9 s of the emulated boot.
readonly KERNEL_CMDLINE="console=ttyS0,115200 panic=-1 nokaslr loglevel=5 cryptomgr.notests"
# Version of the prepared files in the kernel cache; bump it when their preparation changes.
readonly CACHE_FORMAT="hwbed-cache 2"

usage() {
	cat <<'EOF'
usage: scripts/hwbed/run.sh [--timeout SECONDS] [--cache DIR] [--keep DIR] [--module FILE.ko]...
                            [--env NAME=VALUE]... [--no-kvm] [--unload] [--hold-open DEVICE]
                            [--] PROG [PROG...]
       scripts/hwbed/run.sh --kernel-version

Boots Debian 12's 6.1 cloud kernel in Bochs (emulated Intel CPU with VT-x and EPT), loads
kvm_intel (then each --module, in order) and runs each PROG (a statically linked x86-64
executable, no arguments) as root with /dev/kvm available. Reports PASS/FAIL per program.

  --timeout SECONDS  wall-clock limit for the whole Bochs run (default 300)
  --cache DIR        kernel cache (default ${DUNE_HWBED_CACHE:-$HOME/.cache/dune-hwbed})
  --keep DIR         keep the run's files (serial log, bochsrc, disk image, ...) in DIR
  --module FILE.ko   extra kernel module to insmod after kvm_intel (repeatable)
  --env NAME=VALUE   environment variable for every program (repeatable)
  --kernel-version   print the kernel release used (build modules against its headers)

Module backend (dune.ko):
  --no-kvm           do not load kvm/kvm_intel (a --module that uses VMX itself cannot share the
                     CPU with them); the guest CPU must still show the vmx and ept flags
  --unload           after the programs, rmmod each --module (last loaded first): each must go
  --hold-open DEVICE with --unload: first hold DEVICE open in a background process; rmmod of the
                     last --module must be refused meanwhile
  With --no-kvm or --unload, the kernel log from the loading of the --modules on is scanned
  for Oops, BUG:, WARNING:, general protection, Call Trace, kernel BUG and RIP: (a hit fails).
  e.g. run.sh --no-kvm --module dune.ko --unload --hold-open /dev/dune PROG...

Environment: DUNE_HWBED_CACHE (cache dir), DUNE_HWBED_KERNEL (pin a release, e.g.
6.1.0-56-cloud-amd64, instead of the one linux-image-cloud-amd64 depends on),
DUNE_HWBED_APPEND (extra kernel command-line arguments, e.g. loglevel=8 for a full boot log),
DUNE_HWBED_CPU (Bochs CPU model, default corei7_skylake_x).
Exit status: 0 all passed, 1 a program failed, 2 usage, 3 missing package, 4 timeout/boot failure.
EOF
}

say() { printf 'hwbed: %s\n' "$*"; }
now_us() { local t=${EPOCHREALTIME//[.,]/}; printf '%s\n' "$((10#$t))"; }
fmt_s() { printf '%d.%d' $(($1 / 1000000)) $((($1 / 100000) % 10)); }
t_start=$(now_us)
usage_error() {
	printf 'hwbed: %s (see --help)\n' "$*" >&2
	exit 2
}

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

# Programs: regular readable x86-64 ELF files without a program interpreter (static).
prog_names=()
for p in "${progs[@]}"; do
	[[ -f $p && -r $p ]] || usage_error "program not found or unreadable: $p"
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

# ---------------------------------------------------------------------------------------------
# Kernel: the exact linux-image-6.1.0-NN-cloud-amd64 the metapackage depends on, cached unpacked.
resolve_kernel() {
	if [[ -n ${DUNE_HWBED_KERNEL:-} ]]; then
		printf '%s\n' "$DUNE_HWBED_KERNEL"
		return
	fi
	local v
	v=$(apt-cache depends linux-image-cloud-amd64 2>/dev/null |
		sed -n 's/^ *Depends: linux-image-\([0-9][^ ]*-cloud-amd64\)$/\1/p' | sed -n 1p || true)
	if [[ -z $v ]]; then
		# No package lists (apt-get update not run, or offline): fall back to the newest cached kernel.
		v=$(for d in "$cache_dir"/kernel-*/.complete; do
			[[ -e $d && $(<"$d") == "$CACHE_FORMAT" ]] && basename "$(dirname "$d")"
		done | sed 's/^kernel-//' | sort -V | tail -n 1)
		[[ -n $v ]] && say "note: apt-cache does not know linux-image-cloud-amd64; using cached kernel $v" >&2
	fi
	printf '%s\n' "$v"
}
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

# ---------------------------------------------------------------------------------------------
# Host packages (scripts/hwbed/packages.txt is the list)
wanted=()
while read -r pkg _; do
	[[ -z $pkg || $pkg == \#* ]] || wanted+=("$pkg")
done <"$HERE/packages.txt"
declare -A installed=()
while read -r pkg st; do
	[[ $st == ii* ]] && installed[$pkg]=1
done < <(dpkg-query -W -f='${Package} ${db:Status-Abbrev}\n' "${wanted[@]}" 2>/dev/null || true)
missing=()
for pkg in "${wanted[@]}"; do
	[[ -n ${installed[$pkg]-} ]] || missing+=("$pkg")
done
if ((${#missing[@]})); then
	say "missing package(s): ${missing[*]}; install with: scripts/install-deps.sh --hwbed  (or: apt-get install -y ${missing[*]})" >&2
	exit 3
fi


# Write a module to $2, decompressing it if needed (busybox insmod wants a plain .ko).
plain_module() {
	case $1 in
	*.ko) cp -- "$1" "$2" ;;
	*.ko.xz) xz -dc -- "$1" >"$2" ;;
	*.ko.zst) zstd -dcq -- "$1" >"$2" ;;
	*.ko.gz) gzip -dc -- "$1" >"$2" ;;
	*) return 1 ;;
	esac
}

cache_ok() { [[ -f $kdir/.complete && $(<"$kdir/.complete") == "$CACHE_FORMAT" ]]; }

# Make a stock module quick to load in the emulated CPU: objcopy drops the appended signature
# (checking it costs seconds; the kernel only notes an unsigned module, it does not enforce
# signatures) and the __mcount_loc section, so that ftrace has no call sites to patch at load
# time: for kvm.ko that patching (text_poke per site) took 2.2 s of the 2.8 s insmod. The
# functions still start with `call __fentry__`, which is a plain return.
speed_up_module() {
	objcopy --remove-section=__mcount_loc --remove-section=.rela__mcount_loc "$1" "$1.tmp"
	mv -f -- "$1.tmp" "$1"
}

fetch_kernel() {
	mkdir -p -- "$cache_dir"
	local lock=$cache_dir/.lock
	exec 9>"$lock"
	flock 9 # concurrent runs: one downloads, the others wait and reuse
	if cache_ok; then
		exec 9>&-
		return
	fi
	local dl
	dl=$(mktemp -d "$cache_dir/.download.XXXXXX")
	say "downloading linux-image-$kver into $cache_dir (once)"
	local sandbox=()
	((EUID == 0)) && sandbox=(-o APT::Sandbox::User=root) # root: skip the _apt sandbox warning
	if ! (cd "$dl" && apt-get download "${sandbox[@]}" "linux-image-$kver") >"$dl/apt.log" 2>&1; then
		say "apt-get download linux-image-$kver failed: $(tail -n 1 "$dl/apt.log"); try: apt-get update" >&2
		rm -rf -- "$dl"
		exit 3
	fi
	dpkg -x "$dl/linux-image-${kver}_"*.deb "$dl/x"
	rm -rf -- "$kdir"
	mkdir -p -- "$kdir"
	cp -- "$dl/x/boot/vmlinuz-$kver" "$kdir/vmlinuz"
	cp -- "$dl/x/boot/config-$kver" "$kdir/config"
	local mod f
	for mod in irqbypass kvm kvm-intel; do
		f=$(find "$dl/x" -path "*/modules/$kver/*" \( -name "$mod.ko" -o -name "$mod.ko.*" \) | sed -n 1p)
		if [[ -z $f ]] || ! plain_module "$f" "$kdir/$mod.ko" || ! speed_up_module "$kdir/$mod.ko"; then
			say "module $mod not found in linux-image-$kver" >&2
			rm -rf -- "$dl" "$kdir"
			exit 3
		fi
	done
	rm -rf -- "$dl"
	printf '%s\n' "$CACHE_FORMAT" >"$kdir/.complete"
	# Drop other cached kernel releases.
	local old
	for old in "$cache_dir"/kernel-*; do
		[[ $old != "$kdir" && -d $old ]] && rm -rf -- "$old"
	done
	exec 9>&-
}
cache_ok || fetch_kernel

# ---------------------------------------------------------------------------------------------
# Work directory, and killing what we started
work=$(mktemp -d "${TMPDIR:-/tmp}/hwbed.XXXXXX")
bed_pid="" # pid of `script`, whose descendant is bochs-bin

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

# Stop Bochs and the `script` above it. Bochs (the leaf) goes first, with SIGKILL: while it emulates
# it ignores SIGTERM (seen), and it has nothing to save (the serial log is written as it goes).
# `script` then sees its child gone and exits by itself; failing that it gets TERM, then KILL.
# Only these pids are signalled.
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
	wait "$bed_pid" 2>/dev/null || true
	bed_pid=""
}

# shellcheck disable=SC2317 # called from the EXIT trap
cleanup() {
	stop_bed
	if [[ -n $keep_dir && -d $work ]]; then
		mkdir -p -- "$keep_dir"
		local f
		for f in serial.log bochs.log term.log bochsrc bochs.rc syslinux.cfg init initrd.cpio disk.img report.txt; do
			[[ -e $work/$f ]] && mv -f -- "$work/$f" "$keep_dir/$f"
		done
	fi
	rm -rf -- "$work"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# ---------------------------------------------------------------------------------------------
# initramfs: busybox, the modules, the programs and /init
root=$work/root
mkdir -p "$root"/{bin,sbin,usr/bin,usr/sbin,dev,proc,sys,tmp,lib/hwbed,hwbed/bin}
cp /bin/busybox "$root/bin/busybox"
((no_kvm)) || cp "$kdir"/{irqbypass,kvm,kvm-intel}.ko "$root/lib/hwbed/"
for i in "${!modules[@]}"; do
	plain_module "${modules[$i]}" "$root/lib/hwbed/x$i-${module_names[$i]}.ko"
	vermagic=$(grep -a -o -m 1 'vermagic=[^ ]*' "$root/lib/hwbed/x$i-${module_names[$i]}.ko" | sed -n 1p || true)
	[[ -z $vermagic || $vermagic == "vermagic=$kver" ]] ||
		say "warning: ${modules[$i]} has $vermagic, the bed boots $kver (build it against linux-headers-$kver)"
done
for i in "${!progs[@]}"; do
	# Without debug information: statically linked C++ test programs carry ~14 MB of it each,
	# and an initramfs of many of them no longer unpacks in the guest's memory.
	strip --strip-debug -o "$root/hwbed/bin/${prog_names[$i]}" -- "${progs[$i]}" 2>/dev/null ||
		cp -- "${progs[$i]}" "$root/hwbed/bin/${prog_names[$i]}"
	chmod 0755 "$root/hwbed/bin/${prog_names[$i]}"
done

{
	cat <<'EOF'
#!/bin/busybox sh
# /init of the hwbed initramfs, generated by scripts/hwbed/run.sh. Lines starting with @@HWBED are
# read back from the serial console by run.sh.
/bin/busybox mount -t devtmpfs devtmpfs /dev
exec </dev/console >/dev/console 2>&1
/bin/busybox --install -s
export PATH=/bin:/sbin:/usr/bin:/usr/sbin HOME=/ TERM=dumb
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t tmpfs tmpfs /tmp
echo "@@HWBED BOOTED kernel=$(uname -r) uptime=$(cut -d' ' -f1 /proc/uptime)"

load() { # load NAME FILE
	if insmod "$2"; then
		echo "@@HWBED MODULE $1 ok"
	else
		echo "@@HWBED MODULE $1 FAILED status=$?"
	fi
}
EOF
	if ((no_kvm)); then
		echo 'echo "@@HWBED KVM skipped (--no-kvm)"'
	else
		cat <<'EOF'
load irqbypass /lib/hwbed/irqbypass.ko
load kvm /lib/hwbed/kvm.ko
load kvm_intel /lib/hwbed/kvm-intel.ko

p=/sys/module/kvm_intel/parameters
if [ -r $p/ept ]; then
	echo "@@HWBED KVM ept=$(cat $p/ept)"
	params=
	for n in vpid unrestricted_guest flexpriority enable_apicv enable_ipiv pml nested enable_shadow_vmcs preemption_timer emulate_invalid_guest_state; do
		[ -r $p/$n ] && params="$params $n=$(cat $p/$n)"
	done
	echo "@@HWBED KVMPARAMS$params"
else
	echo "@@HWBED KVM FAILED kvm_intel not loaded"
fi
EOF
	fi
	cat <<'EOF'
[ -c /dev/kvm ] && echo "@@HWBED DEVKVM present" || echo "@@HWBED DEVKVM missing"
flags=$(grep -m 1 '^flags' /proc/cpuinfo | cut -d: -f2)
has() { case " $flags " in *" $1 "*) echo yes ;; *) echo no ;; esac; }
echo "@@HWBED CPU vmx=$(has vmx) ept=$(has ept) model=$(grep -m 1 '^model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ *//')"
echo "@@HWBED CPUFLAGS$flags"
echo "@@HWBED VMXFLAGS$(grep -m 1 '^vmx flags' /proc/cpuinfo | cut -d: -f2)"
dmesg | grep -i -E 'kvm|vmx' | sed 's/^/@@HWBED DMESG /'

run() { # run NAME
	echo "@@HWBED BEGIN $1"
	cd /tmp
	/hwbed/bin/$1 </dev/null
	echo "@@HWBED END $1 status=$?"
	cd /
}
EOF
	if ((scan_klog)); then
		# Where the scan starts; KERN_INFO keeps it off the console.
		echo 'echo "<6>hwbed: kernel log scan starts here" >/dev/kmsg'
	fi
	for i in "${!modules[@]}"; do
		printf 'load %s /lib/hwbed/x%s-%s.ko\n' "${module_names[$i]}" "$i" "${module_names[$i]}"
	done
	for e in "${envs[@]}"; do
		printf 'export %s=%q\n' "${e%%=*}" "${e#*=}"
	done
	for name in "${prog_names[@]}"; do
		printf 'run %s\n' "$name"
	done
	if [[ -n $hold_dev ]]; then
		cat <<'EOF'

# hold DEVICE MODULE: while a process has DEVICE open, rmmod MODULE must be refused.
hold() {
	if [ ! -e "$1" ]; then
		echo "@@HWBED HOLD $2 FAILED $1 does not exist"
		return
	fi
	sleep 30 <>"$1" &
	holder=$!
	i=0
	while [ "$(readlink /proc/$holder/fd/0 2>/dev/null)" != "$1" ] && [ $i -lt 100 ]; do
		kill -0 $holder 2>/dev/null || break
		usleep 50000
		i=$((i + 1))
	done
	if [ "$(readlink /proc/$holder/fd/0 2>/dev/null)" != "$1" ]; then
		echo "@@HWBED HOLD $2 FAILED could not hold $1 open"
	elif rmmod "$2" >/tmp/rmmod.out 2>&1; then
		echo "@@HWBED HOLD $2 FAILED rmmod $2 succeeded while $1 was open"
	else
		echo "@@HWBED HOLD $2 ok $(tr '\n' ' ' </tmp/rmmod.out)"
	fi
	kill $holder 2>/dev/null
	wait $holder 2>/dev/null
}
EOF
		printf 'hold %s %s\n' "$hold_dev" "${module_knames[$((${#modules[@]} - 1))]}"
	fi
	if ((unload)); then
		cat <<'EOF'

unload() { # unload NAME
	if rmmod "$1"; then
		echo "@@HWBED UNLOAD $1 ok"
	else
		echo "@@HWBED UNLOAD $1 FAILED status=$?"
	fi
}
EOF
		for ((i = ${#modules[@]} - 1; i >= 0; i--)); do
			printf 'unload %s\n' "${module_knames[$i]}"
		done
	fi
	if ((scan_klog)); then
		cat <<'EOF'

# The kernel's complaints since the scan started, one marker line each.
dmesg >/tmp/klog
if grep -q 'hwbed: kernel log scan starts here' /tmp/klog; then
	sed -n '/hwbed: kernel log scan starts here/,$p' /tmp/klog |
		grep -E 'Oops|BUG:|WARNING:|general protection|Call Trace|kernel BUG|RIP:' >/tmp/klog.hits
	sed 's/^/@@HWBED KLOG /' /tmp/klog.hits
	echo "@@HWBED KLOGSCAN hits=$(wc -l </tmp/klog.hits)"
else
	echo "@@HWBED KLOGSCAN lost"
fi
EOF
	fi
	cat <<'EOF'
echo "@@HWBED DONE uptime=$(cut -d' ' -f1 /proc/uptime)"
poweroff -f
EOF
} >"$work/init"
cp "$work/init" "$root/init"
chmod 0755 "$root/init"
# Uncompressed: unpacking gzip in the emulated CPU cost more (~1 s) than loading the larger file.
(cd "$root" && find . -mindepth 1 | sort | cpio -o -H newc -R 0:0 --quiet) >"$work/initrd.cpio"

# ---------------------------------------------------------------------------------------------
# Boot disk: FAT image with syslinux, no root or loop device needed (mtools)
cat >"$work/syslinux.cfg" <<EOF
DEFAULT hwbed
PROMPT 0
TIMEOUT 0
LABEL hwbed
  KERNEL vmlinuz
  INITRD initrd.cpio
  APPEND $KERNEL_CMDLINE${DUNE_HWBED_APPEND:+ $DUNE_HWBED_APPEND}
EOF
need=$(($(stat -c %s "$kdir/vmlinuz") + $(stat -c %s "$work/initrd.cpio") + 4 * 1024 * 1024))
cylinders=$(((need + CYL_BYTES - 1) / CYL_BYTES))
((cylinders >= MIN_CYLINDERS)) || cylinders=$MIN_CYLINDERS
mkfs.vfat -C "$work/disk.img" $((cylinders * CYL_BYTES / 1024)) >/dev/null
syslinux --install "$work/disk.img"
mcopy -i "$work/disk.img" "$kdir/vmlinuz" ::vmlinuz
mcopy -i "$work/disk.img" "$work/initrd.cpio" ::initrd.cpio
mcopy -i "$work/disk.img" "$work/syslinux.cfg" ::syslinux.cfg

cat >"$work/bochsrc" <<EOF
# generated by scripts/hwbed/run.sh
cpu: model=$cpu_model, count=1, reset_on_triple_fault=1
megs: 512
romimage: file=/usr/share/bochs/BIOS-bochs-latest
vgaromimage: file=/usr/share/vgabios/vgabios.bin
ata0: enabled=1, ioaddr1=0x1f0, ioaddr2=0x3f0, irq=14
ata0-master: type=disk, mode=flat, path=disk.img, cylinders=$cylinders, heads=16, spt=63
boot: disk
com1: enabled=1, mode=file, dev=serial.log
display_library: term
speaker: enabled=0
sound: driver=dummy
clock: sync=none, time0=local
mouse: enabled=0
log: bochs.log
panic: action=fatal
error: action=report
info: action=report
debug: action=ignore
EOF
# Debian's Bochs has its debugger built in: continue at once, quit when the guest stops.
printf 'c\nq\n' >"$work/bochs.rc"
: >"$work/serial.log"

t_prep=$(now_us)
say "kernel $kver, ${#progs[@]} program(s), timeout ${timeout_s}s, prepared in $(fmt_s $((t_prep - t_start)))s; booting Bochs"

# ---------------------------------------------------------------------------------------------
# Run Bochs (term display needs a tty: `script` provides one; stdin from /dev/null so that
# script leaves the caller's terminal alone).
(cd "$work" && SHELL=/bin/sh exec script -qfc "exec bochs -q -f bochsrc -rc bochs.rc" /dev/null) \
	</dev/null >"$work/term.log" 2>&1 &
bed_pid=$!
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
		break # powered off but Bochs did not exit
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
if [[ $outcome == running ]]; then
	# Bochs stopped by itself before /init finished. A guest reset (reboot after a panic, triple
	# fault) drops Bochs into its debugger, which runs the `q` of bochs.rc.
	if grep -q 'Kernel panic - not syncing' "$work/serial.log"; then
		outcome=panic
	elif grep -q 'Reset(SOFTWARE)' "$work/bochs.log" 2>/dev/null; then
		outcome=reboot
	else
		outcome=exited
	fi
fi
stop_bed
t_end=$(now_us)

# ---------------------------------------------------------------------------------------------
# Report
serial=$work/serial.log
declare -A status=() begun=() output=() kernel_issue=()
kvm_line="" kvm_params="" cpu_line="" cpu_flags="" vmx_flags="" module_report=() module_failed=0
declare -A unloaded=() # kernel module name -> ok | FAILED status=N
hold_result="" klog_scan="" klog_hits=()
booted=0 cur=""
# Kernel messages that mean something went wrong in the kernel (a WARN_ON, an oops, ...) while the
# guest ran our code. Before /init started they are ignored: the 6.1 kernel always WARNs once at
# boot on Bochs' CPU (XSAVE size mismatch, see README.md).
issue_re='(WARNING: CPU: |BUG: |Oops: |kernel BUG at|general protection fault|Kernel panic|UBSAN: |soft lockup|hung_task|blocked for more than)'
while IFS= read -r line || [[ -n $line ]]; do
	line=${line//$'\r'/}
	if [[ $line != *"@@HWBED "* ]]; then
		[[ -n $cur ]] && output[$cur]+="    $line"$'\n'
		if ((booted)) && [[ $line =~ $issue_re ]]; then
			key=${cur:-"(outside the programs)"}
			[[ -n ${kernel_issue[$key]-} ]] || kernel_issue[$key]=$line
		fi
		continue
	fi
	pre=${line%%@@HWBED *}
	mark=${line#"$pre"@@HWBED }
	[[ -n $pre && -n $cur ]] && output[$cur]+="    $pre"$'\n'
	read -r kind arg rest <<<"$mark" || true
	case $kind in
	BOOTED) booted=1 ;;
	BEGIN) cur=$arg; begun[$cur]=1 ;;
	END) status[$arg]=${rest#status=}; cur="" ;;
	KVM) kvm_line="$arg${rest:+ $rest}" ;;
	KVMPARAMS) kvm_params="$arg${rest:+ $rest}" ;;
	CPU) cpu_line="$arg${rest:+ $rest}" ;;
	CPUFLAGS) cpu_flags="$arg${rest:+ $rest}" ;;
	VMXFLAGS) vmx_flags="$arg${rest:+ $rest}" ;;
	MODULE)
		if [[ $rest == ok ]]; then
			module_report+=("module $arg: ok")
		else
			module_report+=("FAIL module $arg (insmod exit ${rest#FAILED })")
			module_failed=1
		fi
		;;
	HOLD) hold_result=$rest ;;
	UNLOAD) unloaded[$arg]=$rest ;;
	KLOG) klog_hits+=("${mark#KLOG }") ;;
	KLOGSCAN) klog_scan=$arg ;;
	esac
done <"$serial"

passed=0 failed=0 kvm_ok=0
report() {
	local name took r
	say "kernel $kver on Bochs $cpu_model"
	if ((no_kvm)); then
		if [[ $cpu_line == "vmx=yes ept=yes"* ]]; then
			say "KVM: not loaded (--no-kvm); the guest CPU has VMX and EPT"
			kvm_ok=1
		else
			say "VMX: the guest CPU lacks vmx or ept (--no-kvm; ${cpu_line:-no report from the guest})"
		fi
	elif [[ $kvm_line == ept=Y ]]; then
		say "KVM: kvm_intel loaded with EPT (ept=Y,$kvm_params)"
		kvm_ok=1
	else
		say "KVM: NOT kvm_intel with EPT (${kvm_line:-no report from the guest})"
	fi
	[[ -z $cpu_line ]] || say "guest CPU: $cpu_line"
	[[ -z $cpu_flags ]] || say "guest cpu flags: $cpu_flags"
	[[ -z $vmx_flags ]] || say "guest vmx flags: $vmx_flags"
	for r in "${module_report[@]}"; do say "$r"; done
	for name in "${prog_names[@]}"; do
		took=""
		if [[ -n ${mark_t["BEGIN $name"]-} && -n ${mark_t["END $name"]-} ]]; then
			took=", $(fmt_s $((mark_t["END $name"] - mark_t["BEGIN $name"])))s"
		fi
		printf -- '--- %s ---\n' "$name"
		printf '%s' "${output[$name]-}"
		if [[ -n ${kernel_issue[$name]-} ]]; then
			say "FAIL $name (exit status ${status[$name]-none}$took; the kernel reported: ${kernel_issue[$name]})"
			failed=$((failed + 1))
		elif [[ -n ${status[$name]-} ]]; then
			if [[ ${status[$name]} == 0 ]]; then
				say "PASS $name (exit status 0$took)"
				passed=$((passed + 1))
			else
				say "FAIL $name (exit status ${status[$name]}$took)"
				failed=$((failed + 1))
			fi
		elif [[ -n ${begun[$name]-} ]]; then
			say "FAIL $name (no end marker: crashed, hung or timed out; run outcome: $outcome)"
			failed=$((failed + 1))
		else
			say "FAIL $name (never started; run outcome: $outcome)"
			failed=$((failed + 1))
		fi
	done
	if [[ -n ${kernel_issue["(outside the programs)"]-} ]]; then
		say "FAIL kernel (outside the programs: ${kernel_issue["(outside the programs)"]})"
		failed=$((failed + 1))
	fi
	((!module_failed)) || failed=$((failed + $(printf '%s\n' "${module_report[@]}" | grep -c '^FAIL')))
	module_checks
	case $outcome in
	"done") ;;
	timeout) say "TIMEOUT: the run did not finish within ${timeout_s}s (Bochs was stopped)" ;;
	noboot) say "BOOT FAILURE: the guest did not reach /init within 120s (Bochs was stopped)" ;;
	panic) say "FAILURE: kernel panic" ;;
	reboot) say "FAILURE: the guest reset itself (reboot or triple fault)" ;;
	*) say "BOOT FAILURE: Bochs exited before the guest finished" ;;
	esac
}
# --hold-open, --unload and the kernel log scan: one line each, FAIL counted.
module_checks() {
	local i n line
	if [[ -n $hold_dev ]]; then
		n=${module_knames[$((${#modules[@]} - 1))]}
		if [[ $hold_result == ok* ]]; then
			line=${hold_result#ok}
			say "hold: rmmod $n refused while $hold_dev was open (${line# })"
		elif [[ -n $hold_result ]]; then
			say "FAIL hold: ${hold_result#FAILED }"
			failed=$((failed + 1))
		else
			say "FAIL hold: no report from the guest (run outcome: $outcome)"
			failed=$((failed + 1))
		fi
	fi
	if ((unload)); then
		for ((i = ${#modules[@]} - 1; i >= 0; i--)); do
			n=${module_knames[$i]}
			case ${unloaded[$n]-} in
			ok) say "unload $n: ok" ;;
			"") say "FAIL unload $n: no report from the guest (run outcome: $outcome)"; failed=$((failed + 1)) ;;
			*) say "FAIL unload $n: rmmod ${unloaded[$n]#FAILED }"; failed=$((failed + 1)) ;;
			esac
		done
	fi
	if ((scan_klog)); then
		case $klog_scan in
		hits=0) say "kernel log: no Oops, BUG:, WARNING:, general protection, Call Trace, kernel BUG or RIP: since the modules were loaded" ;;
		hits=*)
			say "FAIL kernel log: ${klog_scan#hits=} line(s) since the modules were loaded:"
			for line in "${klog_hits[@]}"; do printf '    %s\n' "$line"; done
			failed=$((failed + 1))
			;;
		lost) say "FAIL kernel log: the scan's start line is no longer in the kernel's ring buffer"; failed=$((failed + 1)) ;;
		*) say "FAIL kernel log: not scanned (run outcome: $outcome)"; failed=$((failed + 1)) ;;
		esac
	fi
}
report >"$work/report.txt"
cat "$work/report.txt"
bed_ok=0
[[ $outcome == "done" ]] && bed_ok=1

# Keep the serial log: in --keep DIR, else as the cache's last-serial.log.
if [[ -n $keep_dir ]]; then
	log_path=$keep_dir/serial.log
else
	cp -- "$serial" "$cache_dir/.serial.$$"
	mv -f -- "$cache_dir/.serial.$$" "$cache_dir/last-serial.log"
	log_path=$cache_dir/last-serial.log
fi
if ((!bed_ok || !kvm_ok || failed)); then
	printf -- '----- serial console log (%s) -----\n' "$log_path"
	sed 's/\r$//' "$serial"
	printf -- '----- end of serial console log -----\n'
	if [[ $outcome != "done" && $outcome != timeout ]] || [[ -z $t_boot ]]; then
		printf -- '----- last lines of the Bochs log (unknown-MSR lines left out) -----\n'
		grep -v -E 'RDMSR: Unknown register|WRMSR: Unknown register' "$work/bochs.log" 2>/dev/null | tail -n 30 || true
	fi
fi

say "serial log: $log_path"
boot_txt=${t_boot:+$(fmt_s $((t_boot - t_prep)))s}
say "wall time: total $(fmt_s $((t_end - t_start)))s (prepare $(fmt_s $((t_prep - t_start)))s, boot ${boot_txt:-n/a}, Bochs $(fmt_s $((t_end - t_prep)))s)"
say "$passed passed, $failed failed"

if ((!bed_ok || !kvm_ok)); then
	exit 4
elif ((failed)); then
	exit 1
fi
exit 0
