// fpu_state.h - the guest's x87/SSE/AVX state in one format: an XSAVE image.
//
// KVM moves it with KVM_GET/SET_XSAVE where the host kernel has XSAVE, and only
// with KVM_GET/SET_FPU (x87 and SSE) where it does not. libdune keeps XSAVE
// images (the legacy FXSAVE area first) and converts for the second case.
#pragma once

#include <linux/kvm.h>

#include <cstddef>
#include <cstdint>

namespace dune::fpu {

constexpr uint64_t kXstateX87 = 1;
constexpr uint64_t kXstateSse = 2;
constexpr size_t kLegacyBytes = 512;
constexpr size_t kHeaderOffset = 512;  // XSTATE_BV, then XCOMP_BV

// The FXSAVE area (first 512 bytes of an XSAVE image) <-> struct kvm_fpu.
void fxsave_to_kvm_fpu(const void* fxsave, kvm_fpu* out);
void kvm_fpu_to_fxsave(const kvm_fpu& in, void* fxsave);

// Marks an image written by FXSAVE as holding x87 and SSE state (FXSAVE does
// not write the XSAVE header; KVM_SET_XSAVE would otherwise load init state).
void mark_legacy_state(void* image);

// Saves the calling thread's state into image (64-byte aligned, zeroed, at
// least 4096 bytes): XSAVE of every enabled feature, or FXSAVE.
void save_current(void* image, bool xsave);

}  // namespace dune::fpu
