# shellcheck shell=bash
# scripts/hwbed/lib/report.sh: reading the guest's @@HWBED markers back from the serial log,
# and the run's report (PASS/FAIL per program and per check). Sourced by run.sh.

# What the guest reported.
declare -A status=() begun=() output=() kernel_issue=()
kvm_line="" kvm_reported_params="" cpu_line="" cpu_flags="" vmx_flags="" module_report=() module_failed=0
declare -A unloaded=() # kernel module name -> ok | FAILED status=N
hold_result="" klog_scan="" klog_hits=()

# Kernel messages that mean something went wrong in the kernel (a WARN_ON, an oops, ...) while the
# guest ran our code. Before /init started they are ignored: the 6.1 kernel always WARNs once at
# boot on Bochs' CPU (XSAVE size mismatch, see README.md).
readonly ISSUE_RE='(WARNING: CPU: |BUG: |Oops: |kernel BUG at|general protection fault|Kernel panic|UBSAN: |soft lockup|hung_task|blocked for more than)'

# parse_serial: fills the tables above from the serial log.
parse_serial() {
	local line pre mark kind arg rest key booted=0 cur=""
	while IFS= read -r line || [[ -n $line ]]; do
		line=${line//$'\r'/}
		if [[ $line != *"@@HWBED "* ]]; then
			[[ -n $cur ]] && output[$cur]+="    $line"$'\n'
			if ((booted)) && [[ $line =~ $ISSUE_RE ]]; then
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
		KVMPARAMS) kvm_reported_params="$arg${rest:+ $rest}" ;;
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
	done <"$work/serial.log"
}

passed=0 failed=0 kvm_ok=0
# report: the run's report on stdout; counts passed and failed, sets kvm_ok.
report() {
	local name took r
	say "kernel $kver on $emulator_name $cpu_model"
	if ((no_kvm)); then
		if [[ $cpu_line == "$virt_flag=yes $paging_flag=yes"* ]]; then
			say "KVM: not loaded (--no-kvm); the guest CPU has $virt_name and $paging_name"
			kvm_ok=1
		else
			say "$virt_name: the guest CPU lacks $virt_flag or $paging_flag (--no-kvm; ${cpu_line:-no report from the guest})"
		fi
	elif [[ $kvm_line == "$paging_flag=Y" ]]; then
		say "KVM: $kvm_kname loaded with $paging_name ($paging_flag=Y,$kvm_reported_params)"
		kvm_ok=1
	else
		say "KVM: NOT $kvm_kname with $paging_name (${kvm_line:-no report from the guest})"
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
	timeout) say "TIMEOUT: the run did not finish within ${timeout_s}s ($emulator_name was stopped)" ;;
	noboot) say "BOOT FAILURE: the guest did not reach /init within 120s ($emulator_name was stopped)" ;;
	panic) say "FAILURE: kernel panic" ;;
	reboot) say "FAILURE: the guest reset itself (reboot or triple fault)" ;;
	*) say "BOOT FAILURE: $emulator_name exited before the guest finished" ;;
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
