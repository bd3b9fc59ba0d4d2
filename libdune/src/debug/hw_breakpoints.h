// hw_breakpoints.h - gdb's hardware breakpoints and watchpoints (Z1-Z4): four
// debug-address registers, the same on every vCPU of the process, owned by
// KVM (KVM_SET_GUEST_DEBUG): a hit is a KVM_EXIT_DEBUG the guest never sees.
// PVM ignores debug registers the guest itself loads; KVM's own it honours.
#pragma once

#include <cstdint>

struct kvm_guest_debug;

namespace dune {
class GuestThread;
}

namespace dune::debug {

enum class HwKind : uint8_t { kExec, kWrite, kRead, kAccess };

// Whether the backend has KVM_SET_GUEST_DEBUG (not the module).
void set_hw_supported(bool on);
// 0, -ENOSPC (all four in use), -EINVAL (a length other than 1, 2, 4, 8 or
// an address not aligned to it), -ENOTSUP (no hardware breakpoints here).
int insert_hw(HwKind kind, uint64_t addr, uint64_t len);
int remove_hw(HwKind kind, uint64_t addr, uint64_t len);
void remove_all_hw();
// Moves at every change: a thread whose vCPU has an older set loads it.
uint32_t hw_generation();
void sync_hw_breakpoints(GuestThread& t);

// Which of them a hit's DR6 names: false for none of ours.
bool hw_hit(uint64_t dr6, HwKind* kind, uint64_t* addr);
// KVM_SET_GUEST_DEBUG's argument for the current set (pure: unit tested);
// with no breakpoint, guest debugging off (#DB and #BP go to the guest).
void fill_guest_debug(kvm_guest_debug* d);

}  // namespace dune::debug
