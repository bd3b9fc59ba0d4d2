#include "kvm/fpu_state.h"

#include <cstring>

namespace dune::fpu {

namespace {
struct __attribute__((packed)) Fxsave {
  uint16_t fcw;
  uint16_t fsw;
  uint8_t ftw;  // abridged tag word, as kvm_fpu's ftwx
  uint8_t reserved;
  uint16_t fop;
  uint64_t fip;
  uint64_t fdp;
  uint32_t mxcsr;
  uint32_t mxcsr_mask;
  uint8_t st[8][16];
  uint8_t xmm[16][16];
};
static_assert(sizeof(Fxsave) == 416);
}  // namespace

void fxsave_to_kvm_fpu(const void* image, kvm_fpu* out) {
  Fxsave f;
  std::memcpy(&f, image, sizeof f);
  *out = {};
  std::memcpy(out->fpr, f.st, sizeof out->fpr);
  out->fcw = f.fcw;
  out->fsw = f.fsw;
  out->ftwx = f.ftw;
  out->last_opcode = f.fop;
  out->last_ip = f.fip;
  out->last_dp = f.fdp;
  std::memcpy(out->xmm, f.xmm, sizeof out->xmm);
  out->mxcsr = f.mxcsr;
}

void kvm_fpu_to_fxsave(const kvm_fpu& in, void* image) {
  Fxsave f;
  std::memcpy(&f, image, sizeof f);
  std::memcpy(f.st, in.fpr, sizeof f.st);
  f.fcw = in.fcw;
  f.fsw = in.fsw;
  f.ftw = in.ftwx;
  f.fop = in.last_opcode;
  f.fip = in.last_ip;
  f.fdp = in.last_dp;
  std::memcpy(f.xmm, in.xmm, sizeof f.xmm);
  f.mxcsr = in.mxcsr;
  std::memcpy(image, &f, sizeof f);
}

void mark_legacy_state(void* image) {
  uint64_t bv;
  auto* p = static_cast<uint8_t*>(image) + kHeaderOffset;
  std::memcpy(&bv, p, sizeof bv);
  bv |= kXstateX87 | kXstateSse;
  std::memcpy(p, &bv, sizeof bv);
}

void save_current(void* image, bool xsave) {
  if (xsave) {
    // The standard (uncompacted) layout KVM_SET_XSAVE expects, every feature XCR0 enables.
    asm volatile("xsave64 (%0)" : : "r"(image), "a"(~0u), "d"(~0u) : "memory");
  } else {
    asm volatile("fxsave64 (%0)" : : "r"(image) : "memory");
    mark_legacy_state(image);
  }
}

}  // namespace dune::fpu
