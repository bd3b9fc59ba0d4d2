// memory_manager.h - keeps the mirror, the memory slots and the guest page tables in step.
//
// Every change to the process's memory reaches the library as a forwarded
// syscall. Its handler takes lock(), lowers guest permissions that are about to
// go away (lower()), lets the host do the syscall, then records the result
// (set(), remove(), protect()) or, on failure, re-reads the truth (resync()).
// Lowering first matters: with shadow paging and EPT alike, the host syscall is
// what makes KVM drop its cached translations, and it must find the guest page
// tables already lowered.
#pragma once

#include <cstdint>
#include <memory_resource>
#include <mutex>
#include <optional>

#include "base/mapping.h"
#include "base/result.h"
#include "kvm/memslot_table.h"
#include "mm/address_space.h"
#include "mm/page_table.h"
#include "mm/page_table_pool.h"

namespace dune {

struct MemoryConfig {
  uint64_t budget_bytes = 64ull << 30;
  uint32_t max_slots = 32;
  bool nx = true;
  int phys_bits = 48;
  bool force_packed = false;  // packed guest-physical layout even where identity fits
  bool publish_tables = false;  // table chunks into mm/table_directory.h (the process's own manager)
};

// What a guest page fault turned out to be.
struct FaultVerdict {
  bool retry = false;   // the library fixed the cause: run the instruction again
  bool mapped = false;  // genuine fault: the host has a mapping at the address
  int prot = 0;         // and with this protection
};

class MemoryManager {
 public:
  MemoryManager(SlotBackend* backend, const MemoryConfig& config, std::pmr::memory_resource* mr);
  MemoryManager(const MemoryManager&) = delete;
  MemoryManager& operator=(const MemoryManager&) = delete;

  // Builds the root page table and mirrors /proc/self/maps.
  Status init();

  std::unique_lock<std::mutex> lock() { return std::unique_lock<std::mutex>(mutex_); }
  // For fork_lock: held across a fork without a guard object.
  void lock_for_fork() { mutex_.lock(); }
  void unlock_for_fork() { mutex_.unlock(); }

  // --- With lock() held. Ranges are page aligned. ---
  // [r] is now mapped with attrs on the host: mirror it, back it, map it.
  // -ENOMEM past the slot budget (with a message), and then nothing changed.
  Status set(Range r, const RegionAttrs& attrs);
  // [r] is no longer mapped on the host.
  void remove(Range r);
  // The mapped parts of [r] now have protection prot.
  Status protect(Range r, int prot);
  // Before the host lowers [r] to prot (PROT_NONE: unmaps it): lowers the
  // guest's permissions so no vCPU keeps the old ones.
  void lower(Range r, int prot);
  // Makes the mirror of [r] match /proc/self/maps again (after a failed or
  // unusual syscall, or a change made behind the library's back).
  Status resync(Range r);
  Status resync_all();
  // Bytes of new slot coverage that giving [r] protection prot would need.
  uint64_t new_coverage(Range r, int prot);
  bool would_fit(uint64_t bytes) const { return slots_.would_fit(bytes); }
  // One line saying the budget refused `bytes` more.
  void report_over_budget(const char* what, uint64_t bytes) const;

  // Bytes of [r] no slot backs yet.
  uint64_t uncovered(Range r) const { return slots_.uncovered_bytes(r); }
  // Sets or clears a madvise flag on the mapped parts of [r], and updates the
  // guest pages (a guard page is not present for the guest).
  Status set_guard(Range r, bool guard);
  void set_dontfork(Range r, bool dontfork);

  // The attributes at addr, if mapped.
  std::optional<RegionAttrs> attrs_at(uint64_t addr) const;
  // The mirror's region holding addr (adjacent equal mappings are one region).
  std::optional<Range> region_at(uint64_t addr) const;
  // Guest page fault at addr with error code err: fixes what the library can
  // (late mappings, main-stack growth) or says what the host has there.
  FaultVerdict on_page_fault(uint64_t addr, uint64_t err);
  // True if the guest can write [lo, hi), growing the main stack if it must
  // (where a signal or trap frame goes, as the kernel would fault it in).
  bool guest_can_write(uint64_t lo, uint64_t hi);
  // The host refused a guest access at guest-physical gpa behind a present guest page.
  FaultVerdict on_host_fault(uint64_t gpa);
  // The guest's leaf page-table entry for va (0 if none), for diagnostics.
  uint64_t guest_pte(uint64_t va) const { return pt_->lookup(va); }
  // Host-virtual address of guest-physical gpa, if a slot backs it.
  std::optional<uint64_t> hva_of_gpa(uint64_t gpa) const;

  // --- Callable without the lock. ---
  // Memory for the monitor (GDT, TSS, IDT, stacks): mapped for guest ring 0.
  Result<Mapping> allocate_monitor(size_t bytes, int prot);
  void release_monitor(Mapping m);
  uint64_t root_gpa() const { return pt_->root_gpa(); }
  bool identity() const { return slots_.identity(); }
  uint64_t covered_bytes() const { return slots_.covered_bytes(); }
  size_t slot_count() const { return slots_.slot_count(); }
  size_t table_pages() const { return pool_.pages_in_use(); }
  uint64_t budget() const { return slots_.budget(); }
  Status set_budget(uint64_t bytes);
  // --- The classic API (dune_vm_*), with lock() held. ---
  // The process's own table (pgroot).
  GuestPageTable& main_table() { return *pt_; }
  // A leaf-flags override the program set on the main table with
  // dune_vm_mprotect/unmap (0: not present). Kept across the library's own
  // rewrites (resync, fault fix-ups) until a host mmap/mprotect/munmap over
  // the page. Applies to pages the mirror has mapped.
  void set_override(Range r, uint64_t flags);
  // Whether a rewrite keeps the leaves that hold the program's permission
  // (pte::kProgramPerm): the guest may have changed them since the library
  // wrote them (classic/guest_walk.h: dune_vm_mprotect in the guest), so they
  // are newer than the overrides. Kept by the library's own rewrites (resync,
  // fault fix-ups); replaced by a host mmap/mprotect, which ends the program's
  // permission as it ends its overrides, and by the host's dune_vm_mprotect.
  enum class Records { kKeep, kReplace };
  std::optional<uint64_t> override_at(uint64_t page) const;
  // Rewrites the main table's leaves of [r] from the mirror and the overrides,
  // which are newer than the leaves there (the host's dune_vm_mprotect).
  Status rewrite(Range r) { return write_ptes(r, Records::kReplace); }
  // Makes every page-table chunk readable and writable by ring 3 in the main
  // table (the program dereferences the entries dune_vm_lookup returns).
  Status expose_tables();
  bool is_table_memory(uint64_t hva) const { return pool_.holds(hva); }
  // Tables other than the main one (sandbox roots): made, found by root page,
  // destroyed. A new one maps the monitor's structures (and what
  // allocate_monitor adds later) as the main table does.
  Result<GuestPageTable*> new_table();
  GuestPageTable* table_by_root(uint64_t root_hva);
  GuestPageTable* table_by_root_gpa(uint64_t root_gpa);
  void destroy_table(GuestPageTable* t);
  // Copies the main table's leaves of [r] into t (clearing t's where the main
  // table has none); supervisor_only drops PTE_U from the copies.
  Status copy_leaves(GuestPageTable& t, Range r, bool supervisor_only = false);
  // Makes KVM drop what it cached from guest leaves of the program's memory
  // at host addresses [r] (after a guest permission was lowered), without
  // ever denying the host an access (see docs/platform-notes.md).
  void invalidate(Range hva);
  // All accessible program memory.
  void invalidate_all();
  // The table a memory syscall of the calling host thread also updates (a
  // sandbox's, while a syscall it asked for passes through), or nullptr.
  static void set_follower(GuestPageTable* t);
  // Guest-physical address of hva, if a slot backs it.
  std::optional<uint64_t> gpa_of(uint64_t hva) const;
  bool nx() const { return config_.nx; }

  // In a forked child, with lock() held: the slots again, on the child's new
  // VM, without what MADV_DONTFORK kept from it.
  Status rebuild_after_fork(SlotBackend* backend);
  const AddressSpace& space() const { return space_; }

 private:
  uint64_t guest_flags(const RegionAttrs& a) const;
  // What the main table's leaf at page grants: the program's own leaf
  // (Records), else the override, else guest_flags.
  uint64_t effective_flags(uint64_t page, const RegionAttrs& a) const;
  // Maps [part] at gpa with flags, except where the program's overrides say otherwise.
  Status map_with_overrides(Range part, uint64_t gpa, uint64_t flags, bool user_memory, Records records);
  // After the main table's [r] changed: the follower too.
  void follow(Range r);
  // Removes the slots of [r], except those of page-table chunks.
  void drop_slots(Range r);
  // Rewrites the guest leaves of [r] from the mirror, the slots and the
  // overrides, keeping or replacing the program's own leaves (Records).
  Status write_ptes(Range r, Records records = Records::kKeep);
  // Expands the main stack down to addr if Linux would; true if it did.
  bool grow_stack(uint64_t addr);
  Result<uint64_t> register_table_chunk(uint64_t hva, uint64_t size);

  MemoryConfig config_;
  std::pmr::memory_resource* mr_;
  std::mutex mutex_;
  AddressSpace space_;
  MemslotTable slots_;
  PageTablePool pool_;
  std::optional<GuestPageTable> pt_;
  IntervalMap<uint64_t> overrides_;
  std::pmr::vector<GuestPageTable*> extra_;
  uint64_t stack_rlimit_ = 8ull << 20;
};

}  // namespace dune
