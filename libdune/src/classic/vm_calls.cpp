#include "classic/vm_calls.h"

#include <sys/mman.h>
#include <sys/syscall.h>

#include "base/log.h"
#include "base/raw_syscall.h"
#include "classic/guest_walk.h"
#include "classic/sandbox.h"
#include "classic/vm_args.h"
#include "classic/vm_perm.h"
#include "mm/pte.h"
#include "monitor/tlb_gate.h"
#include "runtime/guest_memory.h"
#include "runtime/guest_thread.h"
#include "runtime/hypercall.h"
#include "runtime/runtime.h"

extern "C" char dune_monitor_code_start[], dune_monitor_code_end[];

namespace dune::classic {

namespace {

// Translations a call lowered. Where the calling guest flushes its own TLB
// (guest non-null), their pages, for it to flush on return; otherwise host
// ranges whose cached translations must go (every vCPU), merged while adjacent.
class Invalidations {
 public:
  Invalidations(MemoryManager& mm, GuestFlush* guest) : mm_(mm), guest_(guest) {}
  ~Invalidations() { flush(); }
  void add(uint64_t va, uint64_t gpa) {
    if (guest_)
      guest_->add(va & ~(kPage - 1));
    else
      add_gpa(gpa);
  }
  void add_gpa(uint64_t gpa) {
    auto hva = mm_.hva_of_gpa(gpa & ~(kPage - 1));
    if (!hva) return;
    if (run_.end == *hva) {
      run_.end += kPage;
      return;
    }
    flush();
    run_ = Range{*hva, *hva + kPage};
  }
  void flush() {
    if (!run_.empty()) mm_.invalidate(run_);
    run_ = {};
  }

 private:
  MemoryManager& mm_;
  GuestFlush* guest_;
  Range run_{};
};

Range monitor_code() {
  return Range{reinterpret_cast<uint64_t>(dune_monitor_code_start),
               reinterpret_cast<uint64_t>(dune_monitor_code_end)};
}

GuestPageTable* table_of(MemoryManager& mm, uint64_t root, const char* fn) {
  GuestPageTable* t = mm.table_by_root(root);
  if (!t) log::error("{}: {:#x} is not a page-table root (pgroot, or one from dune_vm_clone)", fn, root);
  return t;
}

bool check_range(const PageRange& r, const char* fn, uint64_t va, uint64_t len) {
  if (!r.error) return true;
  log::error("{}: bad range va={:#x} len={:#x} (page-aligned va, non-zero length, user addresses)", fn,
             va, len);
  return false;
}

int check_map_perm(int perm, const char* fn) {
  int e = check_perm(perm);
  if (e == -ENOTSUP) log::error("{}: large pages (PERM_BIG, PERM_BIG_1GB) are not supported", fn);
  else if (e) log::error("{}: bad permission {:#x}", fn, perm);
  return e;
}


// Sets the leaves of the mapped pages of [r] to flags (0: not present).
void protect_leaves(MemoryManager& mm, GuestFlush* gf, GuestPageTable& t, PageRange r, uint64_t flags) {
  Invalidations inv(mm, gf);
  if (&t == &mm.main_table()) {
    t.for_each_leaf(r.start, r.end - r.start, [&](uint64_t va, uint64_t& leaf) {
      if (lowers(leaf, flags ? (PTE_ADDR(leaf) | flags) : 0)) inv.add(va, PTE_ADDR(leaf));
    });
    mm.set_override(Range{r.start, r.end}, flags);
    (void)mm.rewrite(Range{r.start, r.end});
    return;
  }
  t.for_each_leaf(r.start, r.end - r.start, [&](uint64_t va, uint64_t& leaf) {
    uint64_t now = flags ? (PTE_ADDR(leaf) | flags) : 0;
    if (lowers(leaf, now)) inv.add(va, PTE_ADDR(leaf));
    __atomic_store_n(&leaf, now, __ATOMIC_RELEASE);
  });
}

long vm_mprotect(MemoryManager& mm, GuestFlush* gf, const VmArgs& a) {
  const char* fn = "dune_vm_mprotect";
  int perm = static_cast<int>(a.perm);
  if (int e = check_map_perm(perm | PERM_R, fn)) return e;
  // As the original: no read permission is no access, unless write was asked.
  if (!(perm & PERM_R)) {
    if (perm & PERM_W) {
      log::error("{}: PERM_W without PERM_R", fn);
      return -EINVAL;
    }
    perm = PERM_NONE;
  }
  PageRange r = page_range(a.va, a.len);
  if (!check_range(r, fn, a.va, a.len)) return -EINVAL;
  GuestPageTable* t = table_of(mm, a.root, fn);
  if (!t) return -EINVAL;
  uint64_t flags = t == &mm.main_table() ? main_flags(perm, mm.nx()) : leaf_flags(perm, mm.nx());
  protect_leaves(mm, gf, *t, r, flags);
  return 0;
}

long vm_unmap(MemoryManager& mm, GuestFlush* gf, const VmArgs& a) {
  const char* fn = "dune_vm_unmap";
  PageRange r = page_range(a.va, a.len);
  if (!check_range(r, fn, a.va, a.len)) return -EINVAL;
  GuestPageTable* t = table_of(mm, a.root, fn);
  if (!t) return -EINVAL;
  if (t == &mm.main_table()) {
    protect_leaves(mm, gf, *t, r, 0);
    return 0;
  }
  Invalidations inv(mm, gf);
  t->for_each_leaf(r.start, r.end - r.start, [&](uint64_t va, uint64_t& leaf) { inv.add(va, PTE_ADDR(leaf)); });
  t->unmap(r.start, r.end - r.start);
  return 0;
}

long vm_map_phys(MemoryManager& mm, GuestFlush* gf, const VmArgs& a) {
  const char* fn = "dune_vm_map_phys";
  int perm = static_cast<int>(a.perm);
  if (int e = check_map_perm(perm, fn)) return e;
  PageRange r = page_range(a.va, a.len);
  if (!check_range(r, fn, a.va, a.len)) return -EINVAL;
  uint64_t len = r.end - r.start;
  if ((a.pa & (kPage - 1)) || a.pa + len < a.pa || a.pa + len > kVaTop) {
    log::error("{}: bad physical address {:#x}", fn, a.pa);
    return -EINVAL;
  }
  GuestPageTable* t = table_of(mm, a.root, fn);
  if (!t) return -EINVAL;
  bool main = t == &mm.main_table();
  for (uint64_t off = 0; off < len; off += kPage) {
    if (main) {
      // The process's own table follows its memory: only the page's own address.
      auto gpa = mm.gpa_of(r.start + off);
      if (!gpa || *gpa != a.pa + off) {
        log::error("{}: on pgroot, pa must be dune_va_to_pa(va) of mapped memory ({:#x})", fn, r.start + off);
        return -EINVAL;
      }
      continue;
    }
    auto hva = mm.hva_of_gpa(a.pa + off);
    auto attrs = hva ? mm.attrs_at(*hva) : std::nullopt;
    if (!attrs) {
      log::error("{}: no memory of the process at physical address {:#x}", fn, a.pa + off);
      return -EINVAL;
    }
    if (attrs->library_owned() || mm.is_table_memory(*hva)) {
      log::error("{}: physical address {:#x} is the library's (page tables, monitor)", fn, a.pa + off);
      return -EPERM;
    }
  }
  if (main) {
    protect_leaves(mm, gf, *t, r, main_flags(perm, mm.nx()));
    return 0;
  }
  uint64_t flags = leaf_flags(perm, mm.nx());
  Invalidations inv(mm, gf);
  t->for_each_leaf(r.start, len, [&](uint64_t va, uint64_t& leaf) {
    uint64_t now = flags ? ((a.pa + (va - r.start)) | flags) : 0;
    if (lowers(leaf, now)) inv.add(va, PTE_ADDR(leaf));
  });
  if (!flags) {
    t->unmap(r.start, len);
    return 0;
  }
  Status s = t->map(r.start, len, a.pa, flags);
  return s ? 0 : s.error();
}

long vm_map_pages(MemoryManager& mm, GuestFlush* gf, const VmArgs& a) {
  const char* fn = "dune_vm_map_pages";
  int perm = static_cast<int>(a.perm);
  if (!(perm & PERM_R) && (perm & ~PERM_R)) {
    log::error("{}: permission {:#x} without PERM_R", fn, perm);
    return -EINVAL;
  }
  if (int e = check_map_perm(perm, fn)) return e;
  PageRange r = page_range(a.va, a.len);
  if (!check_range(r, fn, a.va, a.len)) return -EINVAL;
  GuestPageTable* t = table_of(mm, a.root, fn);
  if (!t) return -EINVAL;
  uint64_t len = r.end - r.start;
  if (!mm.would_fit(len)) {
    mm.report_over_budget(fn, len);
    return -ENOMEM;
  }
  bool main = t == &mm.main_table();
  int prot = PROT_READ | ((perm & PERM_W) ? PROT_WRITE : 0) | ((perm & PERM_X) ? PROT_EXEC : 0);
  // New anonymous memory: at va itself in the process's own table; anywhere
  // (the launcher reaches it there) for another table, which maps it at va.
  long p = main ? sys::syscall6(SYS_mmap, static_cast<long>(r.start), static_cast<long>(len), prot,
                                MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0)
                : sys::syscall6(SYS_mmap, 0, static_cast<long>(len), PROT_READ | PROT_WRITE,
                                MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (sys::is_error(p)) {
    log::error("{}: cannot map {:#x} bytes: {}", fn, len, log::errno_name(static_cast<int>(p)));
    return p;
  }
  if (main && static_cast<uint64_t>(p) != r.start) {  // a kernel without MAP_FIXED_NOREPLACE
    sys::munmap(reinterpret_cast<void*>(p), len);
    return -EEXIST;
  }
  Range mem{static_cast<uint64_t>(p), static_cast<uint64_t>(p) + len};
  RegionAttrs attrs{main ? prot : PROT_READ | PROT_WRITE, RegionKind::kAnon};
  if (!mm.set(mem, attrs)) {
    mm.remove(mem);
    sys::munmap(reinterpret_cast<void*>(p), len);
    return -ENOMEM;
  }
  if (main) return 0;
  uint64_t flags = leaf_flags(perm, mm.nx());
  Invalidations inv(mm, gf);
  for (uint64_t off = 0; off < len; off += kPage) {
    auto gpa = mm.gpa_of(mem.start + off);
    if (!gpa) return -ENOMEM;
    auto slot = t->leaf_slot(r.start + off, true);
    if (!slot) return slot.error();
    uint64_t old = __atomic_load_n(slot.value(), __ATOMIC_ACQUIRE);
    uint64_t now = flags ? (*gpa | flags) : 0;
    if (lowers(old, now)) inv.add(r.start + off, PTE_ADDR(old));
    __atomic_store_n(slot.value(), now, __ATOMIC_RELEASE);
  }
  return 0;
}

long vm_lookup(MemoryManager& mm, const VmArgs& a) {
  const char* fn = "dune_vm_lookup";
  if (a.va >= kVaTop) {
    log::error("{}: {:#x} is not a user address", fn, a.va);
    return -EINVAL;
  }
  if (a.perm != CREATE_NONE && a.perm != CREATE_NORMAL) {
    log::error("{}: create must be CREATE_NONE or CREATE_NORMAL (large pages are not supported)", fn);
    return a.perm > CREATE_NORMAL && a.perm <= 3 ? -ENOTSUP : -EINVAL;
  }
  if (!a.out) {
    log::error("{}: NULL pte_out", fn);
    return -EINVAL;
  }
  GuestPageTable* t = table_of(mm, a.root, fn);
  if (!t) return -EINVAL;
  auto slot = t->leaf_slot(a.va & ~(kPage - 1), a.perm == CREATE_NORMAL);
  if (!slot) return slot.error();
  if (!slot.value()) return -ENOENT;
  (void)mm.expose_tables();
  uint64_t p = reinterpret_cast<uint64_t>(slot.value());
  return copy_to_guest(a.out, &p, sizeof p) ? 0 : -EFAULT;
}

long new_root(MemoryManager& mm, GuestPageTable* from) {
  auto nt = mm.new_table();
  if (!nt) {
    log::error("dune_vm_clone: cannot make a page table: {}", log::errno_name(nt.error()));
    return nt.error();
  }
  GuestPageTable* t = nt.value();
  Status result;
  if (from) {
    from->for_each_leaf(0, kVaTop, [&](uint64_t va, uint64_t& leaf) {
      if (mm.is_table_memory(va)) return;  // the launcher's alone
      Status s = t->map(va, kPage, PTE_ADDR(leaf), PTE_FLAGS(leaf));
      if (!s) result = s;
    });
  }
  // The syscall landing and exception stubs.
  Status s = mm.copy_leaves(*t, monitor_code());
  if (!s) result = s;
  if (!result) {
    mm.destroy_table(t);
    return result.error();
  }
  (void)mm.expose_tables();
  register_guest_root(t->root_hva());
  return static_cast<long>(reinterpret_cast<uint64_t>(t->root_hva()));
}

long vm_free(MemoryManager& mm, uint64_t root) {
  GuestPageTable* t = table_of(mm, root, "dune_vm_free");
  if (!t) return -EINVAL;
  if (t == &mm.main_table()) {
    log::error("dune_vm_free: pgroot is the process's own table");
    return -EINVAL;
  }
  if (user_root_hva() == root) set_user_root_hva(0);
  forget_guest_root(t->root_hva());
  mm.destroy_table(t);
  return 0;
}

long vm_walk(MemoryManager& mm, uint64_t batch_addr) {
  WalkBatch b;
  if (!copy_from_guest(&b, batch_addr, offsetof(WalkBatch, e))) return -EFAULT;
  GuestPageTable* t = table_of(mm, b.root, "dune_vm_page_walk");
  if (!t) return -EINVAL;
  b.count = 0;
  b.used = 0;
  if (b.next < b.end && b.end <= kVaTop) {
    b.next = t->walk_leaves(b.next, b.end - b.next, [&](uint64_t va, uint64_t& leaf) {
      if (b.count == kWalkBatch) return false;
      b.e[b.count++] = WalkBatch::Entry{va, reinterpret_cast<uint64_t>(&leaf), leaf};
      return true;
    });
  } else {
    b.next = b.end;
  }
  (void)mm.expose_tables();
  size_t bytes = offsetof(WalkBatch, e) + b.count * sizeof(WalkBatch::Entry);
  return copy_to_guest(batch_addr, &b, bytes) ? 0 : -EFAULT;
}

long vm_walk_commit(MemoryManager& mm, GuestFlush* gf, uint64_t batch_addr) {
  WalkBatch b;
  if (!copy_from_guest(&b, batch_addr, offsetof(WalkBatch, e))) return -EFAULT;
  uint32_t n = b.used < b.count ? b.used : b.count;
  if (n > kWalkBatch) return -EINVAL;
  if (!copy_from_guest(&b.e, batch_addr + offsetof(WalkBatch, e), n * sizeof(WalkBatch::Entry))) return -EFAULT;
  GuestPageTable* t = table_of(mm, b.root, "dune_vm_page_walk");
  if (!t) return -EINVAL;
  bool main = t == &mm.main_table();
  Invalidations inv(mm, gf);
  for (uint32_t i = 0; i < n; ++i) {
    const auto& e = b.e[i];
    if (!mm.is_table_memory(e.ptep) || (e.ptep & 7)) continue;
    uint64_t now = __atomic_load_n(reinterpret_cast<uint64_t*>(e.ptep), __ATOMIC_ACQUIRE);
    if (now == e.old) continue;
    if (lowers(e.old, now)) inv.add(e.va, PTE_ADDR(e.old));
    // A permission the callback changed on the process's own table stays.
    if (main && (now & kGrantBits) != (e.old & kGrantBits)) {
      mm.set_override(Range{e.va, e.va + kPage}, (now & PTE_P) ? PTE_FLAGS(now) : 0);
      // The leaf says so too, as one the library wrote from it would (one
      // not present but for its address: the record of no access).
      if (now) __atomic_fetch_or(reinterpret_cast<uint64_t*>(e.ptep), pte::kProgramPerm, __ATOMIC_ACQ_REL);
    }
  }
  return 0;
}

long flush_tlb(MemoryManager& mm, uint64_t addr) {
  if (addr == ~0ull) {
    mm.invalidate_all();
    return 0;
  }
  uint64_t page = addr & ~(kPage - 1);
  if (page >= kVaTop) return -EINVAL;
  Invalidations inv(mm, nullptr);
  inv.add_gpa(mm.gpa_of(page).value_or(page));
  uint64_t leaf = mm.main_table().lookup(page);
  if (leaf) inv.add_gpa(PTE_ADDR(leaf));
  return 0;
}

}  // namespace

long vm_call(Runtime& rt, GuestThread* t, long nr, uint64_t a1) {
  MemoryManager& mm = *rt.mm;
  switch (static_cast<Hypercall>(nr)) {
    case Hypercall::kJumpToUser:
      return t ? sandbox_jump(*t, a1) : -EINVAL;
    case Hypercall::kRetFromUser:
      return t ? sandbox_ret(*t, static_cast<long>(a1)) : -EINVAL;
    case Hypercall::kPassthrough:
      return t ? sandbox_passthrough(*t, a1) : -EINVAL;
    default:
      break;
  }
  auto lk = mm.lock();
  VmArgs a{};
  auto read_args = [&] { return copy_from_guest(&a, a1, sizeof a); };
  // A guest that flushes its own TLB (the VM's only vCPU, where ring 0 is
  // native) is told what to flush instead of the host making KVM drop it.
  GuestFlush gf;
  GuestFlush* guest = t && guest_tlb_flush_allowed() ? &gf : nullptr;
  auto tell = [&](long r, uint64_t field) {
    if (gf.page && !copy_to_guest(field, &gf.page, sizeof gf.page)) mm.invalidate_all();
    return r;
  };
  auto vm_op = [&](long (*op)(MemoryManager&, GuestFlush*, const VmArgs&)) {
    return read_args() ? tell(op(mm, guest, a), a1 + offsetof(VmArgs, flush)) : -EFAULT;
  };
  switch (static_cast<Hypercall>(nr)) {
    case Hypercall::kVmMprotect: return vm_op(vm_mprotect);
    case Hypercall::kVmMapPhys: return vm_op(vm_map_phys);
    case Hypercall::kVmMapPages: return vm_op(vm_map_pages);
    case Hypercall::kVmUnmap: return vm_op(vm_unmap);
    case Hypercall::kVmLookup: return read_args() ? vm_lookup(mm, a) : -EFAULT;
    case Hypercall::kVmClone: {
      GuestPageTable* from = table_of(mm, a1, "dune_vm_clone");
      return from ? new_root(mm, from) : -EINVAL;
    }
    case Hypercall::kVmNewRoot: return new_root(mm, nullptr);
    case Hypercall::kVmFree: return vm_free(mm, a1);
    case Hypercall::kVmWalk: return vm_walk(mm, a1);
    case Hypercall::kVmWalkCommit: return tell(vm_walk_commit(mm, guest, a1), a1 + offsetof(WalkBatch, flush));
    case Hypercall::kFlushTlb: return flush_tlb(mm, a1);
    case Hypercall::kVaToPa: return static_cast<long>(mm.gpa_of(a1).value_or(0));
    case Hypercall::kSetUserRoot: {
      if (a1 && !table_of(mm, a1, "dune_set_user_root")) return -EINVAL;
      set_user_root_hva(a1 == reinterpret_cast<uint64_t>(mm.main_table().root_hva()) ? 0 : a1);
      return 0;
    }
    default: return -ENOSYS;
  }
}

}  // namespace dune::classic
