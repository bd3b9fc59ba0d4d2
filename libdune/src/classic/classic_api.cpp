// classic_api.cpp - the classic Dune calls of dune.h: page tables and sandboxes.
// In Dune mode the guest makes the common cases itself: walks and lookups of
// pgroot, permission changes of pages whose leaves are the program's records
// and of other roots' present leaves (classic/guest_walk.h), and the flushes
// it may do (monitor/tlb_gate.h); the rest is a hypercall. Before dune_enter
// each runs directly.
#include <dune/dune.h>

#include <unistd.h>

#include "base/log.h"
#include "classic/guest_walk.h"
#include "classic/sandbox.h"
#include "classic/vm_args.h"
#include "classic/vm_calls.h"
#include "classic/vm_perm.h"
#include "kvm/host_cpu.h"
#include "mm/table_directory.h"
#include "monitor/tlb_gate.h"
#include "runtime/guest_thread.h"
#include "runtime/hypercall.h"
#include "runtime/runtime.h"

using namespace dune;
using dune::classic::VmArgs;
using dune::classic::WalkBatch;

namespace dune {
Runtime* live_runtime();
}

namespace {

long call(Hypercall nr, uint64_t a1, const char* fn) {
  if (current_guest_thread()) return dune_hypercall(static_cast<long>(nr), a1, 0, 0);
  Runtime* rt = live_runtime();
  if (!rt) {
    log::error("{}: call dune_init() first", fn);
    return -EINVAL;
  }
  return classic::vm_call(*rt, nullptr, static_cast<long>(nr), a1);
}

// Flushes `page` (~0: every translation): by the guest itself where it may
// (monitor/tlb_gate.h), else by the host.
void flush_tlb(uint64_t page, const char* fn) {
  if (current_guest_thread() && guest_tlb_flush(page)) return;
  (void)call(Hypercall::kFlushTlb, page, fn);
}

// The flush a call left to the guest (VmArgs::flush), if any: by the host
// after all if a second vCPU has appeared since.
void finish_flush(uint64_t page) {
  if (page) flush_tlb(page, "dune_flush_tlb");
}

// Which of root's tables the guest may read and change itself: pgroot's
// (classic/guest_walk.h, the host records permissions in its leaves), or
// another root's the host made (dune_vm_clone, dune_vm_new_root).
enum class GuestRoot { kNo, kMain, kOther };
GuestRoot guest_root(const ptent_t* root) {
  uint64_t* own = classic::guest_walk_root();
  if (!own || !current_guest_thread() || !table_directory::complete()) return GuestRoot::kNo;
  if (root == reinterpret_cast<const ptent_t*>(own)) return GuestRoot::kMain;
  return classic::guest_root_known(reinterpret_cast<const uint64_t*>(root)) ? GuestRoot::kOther : GuestRoot::kNo;
}
bool walks_in_guest(const ptent_t* root) { return guest_root(root) == GuestRoot::kMain; }

// A permission call made by the guest, where it qualifies (classic/guest_walk.h);
// false: the host makes it. flags: pgroot's leaf flags for the permission
// (main_flags), another root's come from perm (leaf_flags).
bool protect_here(ptent_t* root, uint64_t va, size_t len, int perm, uint64_t pa, bool unmap) {
  GuestRoot where = guest_root(root);
  if (where == GuestRoot::kNo) return false;
  auto range = classic::page_range(va, len);
  if (range.error) return false;
  classic::LeafChange change;
  change.flags = where == GuestRoot::kMain ? classic::main_flags(perm, host_cpu().has_nx)
                                           : classic::leaf_flags(perm, host_cpu().has_nx);
  change.pa = pa;
  change.records = where == GuestRoot::kMain;
  change.may_lower = guest_tlb_flush_allowed();
  change.unmap = unmap;
  classic::GuestFlush flush;
  if (!classic::protect_in_guest(reinterpret_cast<uint64_t*>(root), table_directory::table_at, range.start,
                                 range.end, change, flush))
    return false;
  finish_flush(flush.page);
  return true;
}

int vm_op(Hypercall nr, ptent_t* root, void* va, size_t len, uint64_t pa, int perm, const char* fn) {
  // In the caller's memory: the host reads it there (and writes `flush`).
  VmArgs a{reinterpret_cast<uint64_t>(root), reinterpret_cast<uint64_t>(va), len, pa, perm, 0, 0};
  long r = call(nr, reinterpret_cast<uint64_t>(&a), fn);
  finish_flush(a.flush);
  return static_cast<int>(r);
}

}  // namespace

extern "C" {

DUNE_API ptent_t* pgroot = nullptr;

DUNE_API int dune_vm_mprotect(ptent_t* root, void* va, size_t len, int perm) {
  // The common case in the guest; the rest, bad input included, goes to the
  // host, which says what is wrong. As the original: no read permission is
  // no access, unless write was asked.
  if (classic::check_perm(perm | PERM_R) == 0 && ((perm & PERM_R) || !(perm & PERM_W))) {
    int p = (perm & PERM_R) ? perm : PERM_NONE;
    if (protect_here(root, reinterpret_cast<uint64_t>(va), len, p, classic::LeafChange::kAnyAddress, false)) return 0;
  }
  return vm_op(Hypercall::kVmMprotect, root, va, len, 0, perm, "dune_vm_mprotect");
}

DUNE_API int dune_vm_map_phys(ptent_t* root, void* va, size_t len, void* pa, int perm) {
  // On pgroot a page can only be mapped at its own address: where its leaf
  // is the program's record, this is a permission change the guest makes.
  auto at = reinterpret_cast<uint64_t>(pa);
  if (walks_in_guest(root) && classic::check_perm(perm) == 0 && !(at & (classic::kPage - 1)) &&
      at < classic::kVaTop && protect_here(root, reinterpret_cast<uint64_t>(va), len, perm, at, false))
    return 0;
  return vm_op(Hypercall::kVmMapPhys, root, va, len, at, perm, "dune_vm_map_phys");
}

DUNE_API int dune_vm_map_pages(ptent_t* root, void* va, size_t len, int perm) {
  return vm_op(Hypercall::kVmMapPages, root, va, len, 0, perm, "dune_vm_map_pages");
}

DUNE_API int dune_vm_unmap(ptent_t* root, void* va, size_t len) {
  if (protect_here(root, reinterpret_cast<uint64_t>(va), len, PERM_NONE, classic::LeafChange::kAnyAddress, true))
    return 0;
  return vm_op(Hypercall::kVmUnmap, root, va, len, 0, 0, "dune_vm_unmap");
}

DUNE_API int dune_vm_lookup(ptent_t* root, void* va, int create, ptent_t** pte_out) {
  // The common case in the guest (classic/guest_walk.h); bad input goes to
  // the host, which says what is wrong.
  auto at = reinterpret_cast<uint64_t>(va);
  if (walks_in_guest(root) && create == CREATE_NONE && pte_out && at < classic::kVaTop) {
    uint64_t* slot = classic::lookup_in_guest(reinterpret_cast<uint64_t*>(root), table_directory::table_at, at);
    if (!slot) return -ENOENT;
    *pte_out = reinterpret_cast<ptent_t*>(slot);
    return 0;
  }
  VmArgs a{reinterpret_cast<uint64_t>(root), reinterpret_cast<uint64_t>(va), 0, 0, create,
           reinterpret_cast<uint64_t>(pte_out)};
  return static_cast<int>(call(Hypercall::kVmLookup, reinterpret_cast<uint64_t>(&a), "dune_vm_lookup"));
}

DUNE_API ptent_t* dune_vm_clone(ptent_t* root) {
  long r = call(Hypercall::kVmClone, reinterpret_cast<uint64_t>(root), "dune_vm_clone");
  return r < 0 ? nullptr : reinterpret_cast<ptent_t*>(r);
}

DUNE_API ptent_t* dune_vm_new_root(void) {
  long r = call(Hypercall::kVmNewRoot, 0, "dune_vm_new_root");
  return r < 0 ? nullptr : reinterpret_cast<ptent_t*>(r);
}

DUNE_API void dune_vm_free(ptent_t* root) {
  (void)call(Hypercall::kVmFree, reinterpret_cast<uint64_t>(root), "dune_vm_free");
}

DUNE_API int dune_vm_page_walk(ptent_t* root, void* start_va, void* end_va, page_walk_cb cb, const void* arg) {
  if (!cb) {
    log::error("dune_vm_page_walk: NULL callback");
    return -EINVAL;
  }
  auto range = classic::walk_range(reinterpret_cast<uint64_t>(start_va), reinterpret_cast<uint64_t>(end_va));
  if (range.error) {
    log::error("dune_vm_page_walk: bad range {} .. {}", start_va, end_va);
    return range.error;
  }
  // The batch lives on the caller's stack, where the host can reach it.
  WalkBatch b;
  if (walks_in_guest(root)) {
    auto commit = [](WalkBatch& batch) {
      return call(Hypercall::kVmWalkCommit, reinterpret_cast<uint64_t>(&batch), "dune_vm_page_walk");
    };
    auto r = classic::walk_in_guest(reinterpret_cast<uint64_t*>(root), table_directory::table_at, range.start, range.end, cb, arg, b, commit,
                                    guest_tlb_flush_allowed());
    finish_flush(r.flush);
    return r.ret;
  }
  b.root = reinterpret_cast<uint64_t>(root);
  b.next = range.start;
  b.end = range.end;
  for (;;) {
    long r = call(Hypercall::kVmWalk, reinterpret_cast<uint64_t>(&b), "dune_vm_page_walk");
    if (r < 0) return static_cast<int>(r);
    int ret = 0;
    uint32_t i = 0;
    for (; i < b.count && ret == 0; ++i)
      ret = cb(arg, reinterpret_cast<ptent_t*>(b.e[i].ptep), reinterpret_cast<void*>(b.e[i].va));
    // What the callbacks changed takes effect now.
    b.used = i;
    b.flush = 0;
    if (b.used) (void)call(Hypercall::kVmWalkCommit, reinterpret_cast<uint64_t>(&b), "dune_vm_page_walk");
    finish_flush(b.flush);
    if (ret) return ret;
    if (b.count == 0 || b.next >= b.end) return 0;
  }
}

DUNE_API void dune_flush_tlb(void) { flush_tlb(~0ull, "dune_flush_tlb"); }

DUNE_API void dune_flush_tlb_one(unsigned long addr) {
  // Outside the 47-bit user half the host refuses it (-EINVAL, nothing
  // flushed) and the gate's invlpg would fault: in the guest, nothing to do.
  if (addr >= classic::kVaTop && current_guest_thread()) return;
  flush_tlb(addr & ~0xfffull, "dune_flush_tlb_one");
}

DUNE_API uintptr_t dune_va_to_pa(void* ptr) {
  long r = call(Hypercall::kVaToPa, reinterpret_cast<uint64_t>(ptr), "dune_va_to_pa");
  return r < 0 ? 0 : static_cast<uintptr_t>(r);
}

DUNE_API int dune_set_user_root(ptent_t* root) {
  return static_cast<int>(call(Hypercall::kSetUserRoot, reinterpret_cast<uint64_t>(root), "dune_set_user_root"));
}

DUNE_API int dune_register_syscall_handler(dune_syscall_cb cb) { return set_syscall_handler(cb); }

DUNE_API int dune_jump_to_user(struct dune_tf* tf) {
  if (!tf) {
    log::error("dune_jump_to_user: NULL trap frame");
    return -EINVAL;
  }
  if (!current_guest_thread()) {
    log::error("dune_jump_to_user: the calling thread is not in Dune mode (dune_enter first)");
    return -EINVAL;
  }
  return static_cast<int>(dune_hypercall(static_cast<long>(Hypercall::kJumpToUser),
                                         reinterpret_cast<uint64_t>(tf), 0, 0));
}

DUNE_API void dune_ret_from_user(int ret) {
  if (current_guest_thread())
    (void)dune_hypercall(static_cast<long>(Hypercall::kRetFromUser), static_cast<uint64_t>(static_cast<long>(ret)), 0, 0);
  else
    log::error("dune_ret_from_user: the calling thread is not in Dune mode");
  // Not in a sandbox's handler (the hypercall said why): there is nothing to
  // return to; the process ends with ret, as a program's exit would.
  _exit(ret);
}

DUNE_API void dune_passthrough_syscall(struct dune_tf* tf) {
  if (!tf) {
    log::error("dune_passthrough_syscall: NULL trap frame");
    return;
  }
  long r = current_guest_thread()
               ? dune_hypercall(static_cast<long>(Hypercall::kPassthrough), reinterpret_cast<uint64_t>(tf), 0, 0)
               : -EINVAL;
  if (r < 0) tf->rax = static_cast<uint64_t>(r);
}

}  // extern "C"
