#include "signals/signal_frame.h"

#include <cstring>

namespace dune {

namespace {
constexpr uint64_t kRedZone = 128;

struct FpxSwBytes {
  uint32_t magic1;
  uint32_t extended_size;
  uint64_t xfeatures;
  uint32_t xstate_size;
  uint32_t padding[7];
};
static_assert(sizeof(FpxSwBytes) == 48);
}  // namespace

SignalFrameLayout signal_frame_layout(uint64_t rsp, const AltStack& alt, bool sa_onstack,
                                      uint64_t fpu_bytes) {
  SignalFrameLayout l{};
  bool nested = alt.contains(rsp);
  uint64_t sp = rsp - kRedZone;
  bool entering = false;
  if (sa_onstack && !(alt.flags & SS_DISABLE) && !alt.contains(sp)) {
    sp = alt.sp + alt.size;
    entering = true;
  }
  bool on = nested || entering;
  l.on_altstack = on;
  l.fpstate = (sp - fpu_bytes) & ~63ull;
  l.frame = ((l.fpstate - sizeof(RtSigframe)) & ~15ull) - 8;
  l.overflow = on && !(l.frame > alt.sp);
  return l;
}

void mark_xstate_frame(uint8_t* image, uint32_t xstate_size, uint64_t xfeatures) {
  FpxSwBytes sw{};
  sw.magic1 = kFpXstateMagic1;
  sw.extended_size = xstate_size + sizeof(uint32_t);
  sw.xfeatures = xfeatures;
  sw.xstate_size = xstate_size;
  std::memcpy(image + kFpSwBytesOffset, &sw, sizeof sw);
  uint32_t magic2 = kFpXstateMagic2;
  std::memcpy(image + xstate_size, &magic2, sizeof magic2);
}

bool has_xstate_frame(const uint8_t* image, uint32_t xstate_size) {
  FpxSwBytes sw;
  std::memcpy(&sw, image + kFpSwBytesOffset, sizeof sw);
  if (sw.magic1 != kFpXstateMagic1 || sw.xstate_size != xstate_size ||
      sw.extended_size != xstate_size + sizeof(uint32_t))
    return false;
  uint32_t magic2;
  std::memcpy(&magic2, image + xstate_size, sizeof magic2);
  return magic2 == kFpXstateMagic2;
}

}  // namespace dune
