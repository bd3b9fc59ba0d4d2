# shellcheck shell=bash
# scripts/hwbed/lib/cpu_models.sh: which emulator runs a bed CPU model, and what that CPU's
# hardware virtualization is called. Sourced by run.sh.
#
# Intel models run in Bochs (VT-x with EPT; kvm_intel). Bochs has no AMD-V with nested paging
# that boots (its `ryzen` model hung at the BIOS), so the AMD models run in QEMU's software
# emulation (TCG), which emulates SVM with NPT for kvm_amd. Never QEMU with -accel kvm: the
# host's /dev/kvm is PVM, and SVM must be emulated.

# select_cpu_model MODEL: sets emulator (bochs|qemu), emulator_name, qemu_cpu, and the vendor's
# names: kvm_file (the module in the cache), kvm_kname (the kernel's name for it), virt_flag and
# paging_flag (/proc/cpuinfo flags, paging_flag also kvm_<vendor>'s parameter), their upper-case
# names for messages, and kvm_param_names (the module's parameters worth reporting).
select_cpu_model() {
	qemu_cpu=""
	case $1 in
	amd-epyc) qemu_cpu=EPYC ;;
	amd-epyc-rome) qemu_cpu=EPYC-Rome ;;
	amd-epyc-milan) qemu_cpu=EPYC-Milan ;;
	amd-*) usage_error "unknown AMD CPU model '$1' (amd-epyc, amd-epyc-rome, amd-epyc-milan)" ;;
	esac
	if [[ -n $qemu_cpu ]]; then
		emulator=qemu emulator_name=QEMU
		qemu_cpu+=",+svm,+npt"
		kvm_file=kvm-amd kvm_kname=kvm_amd virt_flag=svm paging_flag=npt
		virt_name=AMD-V paging_name=NPT
		kvm_param_names="nested nrips vls vgif lbrv avic tsc_scaling"
	else
		[[ $1 =~ ^[a-z0-9_]+$ ]] || usage_error "DUNE_HWBED_CPU wants a Bochs CPU model or amd-epyc*, not '$1'"
		emulator=bochs emulator_name=Bochs
		# Instructions per emulated second. Bochs' default (4 million) puts the bed kernel's timer
		# tick every ~16,000 emulated instructions on broadwell_ult, a thousand times denser than on
		# a real CPU: under kvm_intel every tick is a VM exit, with an L1D flush on re-entry there
		# (L1TF), and a 100-fault pass took ~19 of them (docs/platform-notes.md). Ten times that
		# rate keeps the timer closer to real; run_bed.sh scales the tests' timers to match.
		bochs_ips=4000000
		if [[ $1 == broadwell_ult ]]; then bochs_ips=40000000; fi
		kvm_file=kvm-intel kvm_kname=kvm_intel virt_flag=vmx paging_flag=ept
		virt_name=VMX paging_name=EPT
		kvm_param_names="vpid unrestricted_guest flexpriority enable_apicv enable_ipiv pml nested enable_shadow_vmcs preemption_timer emulate_invalid_guest_state"
	fi
}
