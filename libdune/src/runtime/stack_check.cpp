#include "runtime/stack_check.h"

#include <dune/trace.h>
#include <sys/resource.h>

#include <csignal>

#include "base/raw_syscall.h"
#include "runtime/guest_thread.h"
#include "runtime/runtime.h"
#include "trace/events.h"

namespace dune {

namespace {

uint32_t map_kind_of(RegionKind k) {
  switch (k) {
    case RegionKind::kAnon: return DUNE_MAP_ANON;
    case RegionKind::kFile: return DUNE_MAP_FILE;
    case RegionKind::kStack: return DUNE_MAP_STACK;
    case RegionKind::kHeap: return DUNE_MAP_HEAP;
    case RegionKind::kVdso: return DUNE_MAP_VDSO;
    case RegionKind::kShm: return DUNE_MAP_SHM;
    case RegionKind::kMonitor: return DUNE_MAP_MONITOR;
    case RegionKind::kPageTables: return DUNE_MAP_PAGE_TABLES;
  }
  return DUNE_MAP_ANON;
}

bool is_stack_mapping(const RegionAttrs& a) { return a.kind == RegionKind::kStack || a.growsdown; }

// How far the main stack may grow below its top (capped: "unlimited" must not
// make the whole address space a stack).
uint64_t stack_growth_limit() {
  constexpr uint64_t kCap = 1ull << 30;
  rlimit64 rl{};
  if (sys::syscall6(SYS_prlimit64, 0, RLIMIT_STACK, 0, reinterpret_cast<long>(&rl)) != 0) return 8ull << 20;
  return rl.rlim_cur < kCap ? rl.rlim_cur : kCap;
}

// The thread's own stack: the mapping its first rsp was in. mm is locked.
void find_thread_stack(ThreadStacks& s, const MemoryManager& mm) {
  auto [range, attrs] = mm.space().find(s.anchor);
  if (!attrs) {
    s.lo = s.hi = s.anchor;  // started off every mapping: only that very rsp
    return;
  }
  s.hi = range.end;
  s.lo = range.start;
  if (is_stack_mapping(*attrs)) {
    uint64_t limit = stack_growth_limit();
    s.lo = range.end > limit ? range.end - limit : 0;
  }
}

bool within(uint64_t rsp, uint64_t lo, uint64_t hi) { return hi != 0 && rsp >= lo && rsp <= hi; }

}  // namespace

void check_guest_stack(GuestThread& t) {
  dune_tf tf;
  t.user_state(&tf);
  uint64_t rsp = tf.rsp;
  ThreadStacks& s = t.stacks();
  const AltStack& alt = t.altstack();
  if (alt.size && !(alt.flags & SS_DISABLE)) {
    s.alt_lo = alt.sp;
    s.alt_hi = alt.sp + alt.size;
  }
  if (within(rsp, s.lo, s.hi) || within(rsp, s.alt_lo, s.alt_hi)) return;

  dune_event ev{};
  {
    MemoryManager& mm = *t.rt().mm;
    auto lk = mm.lock();
    if (!s.hi) {
      find_thread_stack(s, mm);
      if (within(rsp, s.lo, s.hi)) return;
    }
    auto [range, attrs] = mm.space().find(rsp);
    if (attrs && is_stack_mapping(*attrs)) return;
    if (attrs) {
      ev.u.badstack.map_start = range.start;
      ev.u.badstack.map_end = range.end;
      ev.u.badstack.map_prot = attrs->prot;
      ev.u.badstack.map_kind = map_kind_of(attrs->kind);
    }
  }
  ev.kind = DUNE_EV_BADSTACK;
  ev.regs = &tf;
  ev.u.badstack.rsp = rsp;
  ev.u.badstack.stack_start = s.lo;
  ev.u.badstack.stack_end = s.hi;
  ev.u.badstack.altstack_start = s.alt_lo;
  ev.u.badstack.altstack_end = s.alt_hi;
  trace::emit(ev);
}

}  // namespace dune
