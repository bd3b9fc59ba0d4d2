// memory_syscalls.cpp - mmap and friends: forwarded, then mirrored into the VM.
#include <sys/ipc.h>
#include <sys/mman.h>
#include <sys/shm.h>
#include <sys/syscall.h>

#include <optional>

#include "base/raw_syscall.h"
#include "mm/memory_manager.h"
#include "runtime/guest_thread.h"
#include "runtime/runtime.h"
#include "syscalls/handlers.h"

namespace dune {

namespace {

constexpr uint64_t kPage = 4096;
constexpr uint64_t kUserTop = 1ull << 47;
constexpr int kProtRwx = PROT_READ | PROT_WRITE | PROT_EXEC;
constexpr int kMadvGuardInstall = 102;
constexpr int kMadvGuardRemove = 103;

uint64_t page_up(uint64_t n) { return (n + kPage - 1) & ~(kPage - 1); }

// [addr, addr + len) page-rounded, if the kernel could accept it.
std::optional<Range> user_range(uint64_t addr, uint64_t len, uint64_t align = kPage) {
  if (addr & (kPage - 1)) return std::nullopt;
  uint64_t l = (len + align - 1) & ~(align - 1);
  if (l < len || addr + l < addr || addr + l > kUserTop) return std::nullopt;
  return Range{addr, addr + l};
}

bool accessible(int prot) { return prot & kProtRwx; }

// KVM brings a page into the guest through get_user_pages, which refuses a
// mapping the host may not read: a PROT_EXEC-only mapping could never run in
// Dune mode. The host's copy is made readable too (the guest's page is
// executable and not writable, and x86 page tables cannot refuse reads of an
// executable page; only protection keys could). docs/signals-and-syscalls.md.
SyscallArgs with_host_prot(const SyscallArgs& s, int prot_arg) {
  SyscallArgs h = s;
  uint64_t prot = s.a[prot_arg];
  if ((prot & PROT_EXEC) && !(prot & (PROT_READ | PROT_WRITE))) h.a[prot_arg] = prot | PROT_READ;
  return h;
}

MemoryManager& mm_of(GuestThread& t) { return *t.rt().mm; }

// Budget check before the host maps anything: the syscall fails, not the machine.
bool fits(MemoryManager& mm, const char* what, uint64_t bytes) {
  if (mm.would_fit(bytes)) return true;
  mm.report_over_budget(what, bytes);
  return false;
}

}  // namespace

long sys_mmap(GuestThread& t, const SyscallArgs& s) {
  uint64_t addr = s.a[0], len = s.a[1];
  int prot = static_cast<int>(s.a[2]), flags = static_cast<int>(s.a[3]);
  uint64_t align = kPage;
  if (flags & MAP_HUGETLB) {
    int shift = (flags >> MAP_HUGE_SHIFT) & MAP_HUGE_MASK;
    align = 1ull << (shift ? shift : 21);
  }
  uint64_t l = (len + align - 1) & ~(align - 1);
  if (len == 0 || l < len) return forward_syscall_always(s);  // the kernel's EINVAL/ENOMEM
  MemoryManager& mm = mm_of(t);
  auto lk = mm.lock();
  std::optional<Range> fixed;
  if (flags & MAP_FIXED) fixed = user_range(addr, len, align);
  if (accessible(prot) && !fits(mm, "mmap", fixed ? mm.uncovered(*fixed) : l)) return -ENOMEM;
  // MAP_FIXED replaces what was there: take it away from the guest first.
  if (fixed) mm.lower(*fixed, PROT_NONE);
  long r = forward_syscall_always(with_host_prot(s, 2));
  if (sys::is_error(r)) {
    if (fixed) (void)mm.resync(*fixed);
    return r;
  }
  Range got{static_cast<uint64_t>(r), static_cast<uint64_t>(r) + l};
  RegionAttrs a;
  a.prot = prot & kProtRwx;
  a.kind = (flags & MAP_ANONYMOUS) ? RegionKind::kAnon : RegionKind::kFile;
  a.shared = (flags & MAP_TYPE) != MAP_PRIVATE;
  a.growsdown = flags & MAP_GROWSDOWN;
  if (!mm.set(got, a)) {
    sys::munmap(reinterpret_cast<void*>(r), l);
    mm.remove(got);
    return -ENOMEM;
  }
  return r;
}

long sys_munmap(GuestThread& t, const SyscallArgs& s) {
  auto range = user_range(s.a[0], s.a[1]);
  if (!range || s.a[1] == 0) return forward_syscall_always(s);
  MemoryManager& mm = mm_of(t);
  auto lk = mm.lock();
  mm.lower(*range, PROT_NONE);
  long r = forward_syscall_always(s);
  if (r == 0)
    mm.remove(*range);
  else
    (void)mm.resync(*range);
  return r;
}

long sys_mprotect(GuestThread& t, const SyscallArgs& s) {
  auto range = user_range(s.a[0], s.a[1]);
  int prot = static_cast<int>(s.a[2]);
  if (!range || range->empty()) return forward_syscall_always(s);
  MemoryManager& mm = mm_of(t);
  auto lk = mm.lock();
  if (!fits(mm, "mprotect", mm.new_coverage(*range, prot))) return -ENOMEM;
  mm.lower(*range, prot & kProtRwx);
  long r = forward_syscall_always(with_host_prot(s, 2));
  // PROT_GROWSDOWN/UP move the start or end to the whole stack: ask the kernel.
  if (r != 0 || (prot & (PROT_GROWSDOWN | PROT_GROWSUP)))
    (void)mm.resync(*range);
  else
    (void)mm.protect(*range, prot & kProtRwx);
  return r;
}

long sys_mremap(GuestThread& t, const SyscallArgs& s) {
  uint64_t old_addr = s.a[0], old_len = s.a[1], new_len = s.a[2];
  int flags = static_cast<int>(s.a[3]);
  auto old_range = user_range(old_addr, old_len);
  if (!old_range || new_len == 0) return forward_syscall_always(s);
  MemoryManager& mm = mm_of(t);
  auto lk = mm.lock();
  auto attrs = mm.attrs_at(old_addr);
  uint64_t old_l = old_range->size(), new_l = page_up(new_len);
  if (attrs && accessible(attrs->prot) && new_l > old_l && !fits(mm, "mremap", new_l - old_l))
    return -ENOMEM;
  std::optional<Range> dest;
  if (flags & MREMAP_FIXED) dest = user_range(s.a[4], new_len);
  // The usual cases are mirrored directly; odd ones (DONTUNMAP, a zero
  // old_len duplicating a shared mapping) are re-read from the kernel.
  bool simple = attrs && old_l > 0 && !(flags & MREMAP_DONTUNMAP);
  bool may_move = flags & (MREMAP_MAYMOVE | MREMAP_FIXED);
  if (may_move || (flags & MREMAP_DONTUNMAP))
    mm.lower(*old_range, PROT_NONE);
  else if (new_l < old_l)
    mm.lower(Range{old_addr + new_l, old_addr + old_l}, PROT_NONE);
  if (dest) mm.lower(*dest, PROT_NONE);
  long r = forward_syscall_always(s);
  if (sys::is_error(r)) {
    (void)mm.resync(*old_range);
    if (dest) (void)mm.resync(*dest);
    return r;
  }
  uint64_t got = static_cast<uint64_t>(r);
  if (!simple) {
    (void)mm.resync(*old_range);
    (void)mm.resync(Range{got, got + new_l});
    return r;
  }
  if (got == old_addr) {
    if (new_l < old_l) mm.remove(Range{old_addr + new_l, old_addr + old_l});
    (void)mm.set(Range{old_addr, old_addr + new_l}, *attrs);
  } else {
    mm.remove(*old_range);
    (void)mm.set(Range{got, got + new_l}, *attrs);
  }
  return r;
}

long sys_brk(GuestThread& t, const SyscallArgs& s) {
  MemoryManager& mm = mm_of(t);
  auto lk = mm.lock();
  uint64_t old_brk = static_cast<uint64_t>(sys::syscall6(SYS_brk, 0));
  uint64_t want = s.a[0];
  uint64_t old_end = page_up(old_brk);
  if (want > old_brk && !fits(mm, "brk", mm.uncovered(Range{old_end, page_up(want)})))
    return static_cast<long>(old_brk);  // brk reports failure by not moving
  if (want && want < old_brk) mm.lower(Range{page_up(want), old_end}, PROT_NONE);
  long r = forward_syscall_always(s);
  uint64_t new_end = page_up(static_cast<uint64_t>(r));
  if (new_end > old_end) {
    RegionAttrs heap{PROT_READ | PROT_WRITE, RegionKind::kHeap};
    if (old_end > 0) {
      auto below = mm.attrs_at(old_end - 1);
      if (below && below->kind == RegionKind::kHeap) heap = *below;
    }
    (void)mm.set(Range{old_end, new_end}, heap);
  } else if (new_end < old_end) {
    mm.remove(Range{new_end, old_end});
  } else if (want && want < old_brk) {
    (void)mm.resync(Range{page_up(want), old_end});
  }
  return r;
}

long sys_madvise(GuestThread& t, const SyscallArgs& s) {
  int advice = static_cast<int>(s.a[2]);
  auto range = user_range(s.a[0], s.a[1]);
  bool tracked = advice == MADV_DONTFORK || advice == MADV_DOFORK ||
                 advice == kMadvGuardInstall || advice == kMadvGuardRemove;
  // Everything else (DONTNEED, FREE, ...) changes pages, not mappings: KVM's
  // MMU notifier already sees it.
  if (!range || !tracked) return forward_syscall_always(s);
  MemoryManager& mm = mm_of(t);
  auto lk = mm.lock();
  if (advice == kMadvGuardInstall) mm.lower(*range, PROT_NONE);
  long r = forward_syscall_always(s);
  if (r != 0) {
    if (advice == kMadvGuardInstall) (void)mm.resync(*range);
    return r;
  }
  if (advice == MADV_DONTFORK || advice == MADV_DOFORK)
    mm.set_dontfork(*range, advice == MADV_DONTFORK);
  else
    (void)mm.set_guard(*range, advice == kMadvGuardInstall);
  return r;
}

long sys_shmat(GuestThread& t, const SyscallArgs& s) {
  int shmflg = static_cast<int>(s.a[2]);
  shmid_ds ds{};
  if (sys::syscall6(SYS_shmctl, static_cast<long>(s.a[0]), IPC_STAT, reinterpret_cast<long>(&ds)) != 0)
    return forward_syscall_always(s);  // let the kernel report the bad id
  uint64_t l = page_up(ds.shm_segsz);
  MemoryManager& mm = mm_of(t);
  auto lk = mm.lock();
  if (!fits(mm, "shmat", l)) return -ENOMEM;
  std::optional<Range> replaced;
  if ((shmflg & SHM_REMAP) && s.a[1]) replaced = user_range(s.a[1] & ~(SHMLBA - 1ull), l);
  if (replaced) mm.lower(*replaced, PROT_NONE);
  long r = forward_syscall_always(s);
  if (sys::is_error(r)) {
    if (replaced) (void)mm.resync(*replaced);
    return r;
  }
  RegionAttrs a;
  a.prot = PROT_READ | ((shmflg & SHM_RDONLY) ? 0 : PROT_WRITE) | ((shmflg & SHM_EXEC) ? PROT_EXEC : 0);
  a.kind = RegionKind::kShm;
  a.shared = true;
  Range got{static_cast<uint64_t>(r), static_cast<uint64_t>(r) + l};
  if (!mm.set(got, a)) {
    sys::syscall6(SYS_shmdt, r);
    mm.remove(got);
    return -ENOMEM;
  }
  return r;
}

long sys_shmdt(GuestThread& t, const SyscallArgs& s) {
  MemoryManager& mm = mm_of(t);
  auto lk = mm.lock();
  // Which pages go is the kernel's business (the segment may have been split);
  // take the whole region away from the guest, then ask what is left.
  auto region = mm.region_at(s.a[0]);
  if (region) mm.lower(*region, PROT_NONE);
  long r = forward_syscall_always(s);
  if (region) (void)mm.resync(*region);
  return r;
}

long sys_remap_file_pages(GuestThread& t, const SyscallArgs& s) {
  MemoryManager& mm = mm_of(t);
  auto lk = mm.lock();
  auto range = user_range(s.a[0] & ~(kPage - 1), s.a[1]);
  if (range) mm.lower(*range, PROT_NONE);
  long r = forward_syscall_always(s);
  if (range) (void)mm.resync(*range);
  return r;
}

}  // namespace dune
