# shellcheck shell=bash
# scripts/hwbed/lib/kernel_cache.sh: the host packages a bed needs, and the guest kernel: the
# exact linux-image-6.1.0-NN-cloud-amd64 the metapackage depends on, cached unpacked with the KVM
# modules of both vendors. Sourced by run.sh.

# Version of the prepared files in the kernel cache; bump it when their preparation changes.
readonly CACHE_FORMAT="hwbed-cache 3"
# The modules the cache keeps, loaded in this order (kvm-intel or kvm-amd, not both).
readonly KVM_MODULES=(irqbypass kvm kvm-intel kvm-amd)

# Exit 3 with one line if a package the EMULATOR's bed needs (packages.txt) is missing.
check_packages() { # check_packages EMULATOR
	local wanted=() pkg bed st missing=()
	while read -r pkg bed _; do
		[[ -z $pkg || $pkg == \#* ]] && continue
		[[ -z $bed || $bed == "$1" ]] && wanted+=("$pkg")
	done <"$HERE/packages.txt"
	local -A installed=()
	while read -r pkg st; do
		[[ $st == ii* ]] && installed[$pkg]=1
	done < <(dpkg-query -W -f='${Package} ${db:Status-Abbrev}\n' "${wanted[@]}" 2>/dev/null || true)
	for pkg in "${wanted[@]}"; do
		[[ -n ${installed[$pkg]-} ]] || missing+=("$pkg")
	done
	if ((${#missing[@]})); then
		say "missing package(s): ${missing[*]}; install with: scripts/install-deps.sh --hwbed  (or: apt-get install -y --no-install-recommends ${missing[*]})" >&2
		exit 3
	fi
}

# The release to boot: DUNE_HWBED_KERNEL, else what linux-image-cloud-amd64 depends on, else the
# newest complete cache.
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

# The cache for release kver is complete: kdir holds it.
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
	for mod in "${KVM_MODULES[@]}"; do
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
