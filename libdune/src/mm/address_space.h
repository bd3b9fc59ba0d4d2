// address_space.h - the library's mirror of the process's mappings.
#pragma once

#include <sys/mman.h>

#include <cstdint>
#include <memory_resource>

#include "mm/interval_map.h"
#include "mm/proc_maps.h"

namespace dune {

enum class RegionKind : uint8_t {
  kAnon,        // private or shared anonymous memory
  kFile,        // a file mapping
  kStack,       // the main thread's stack: grows down on demand
  kHeap,        // the brk heap
  kVdso,        // [vdso], [vvar] and the like: the kernel's pages for the process
  kShm,         // System V shared memory (shmat)
  kMonitor,     // GDT, IDT, TSS, ring-0 stacks: mapped for the guest's ring 0 only
  kPageTables,  // the guest page tables' own memory: the program reads and edits
                // entries (the classic API's pointers), in its own table only
};

struct RegionAttrs {
  int prot = PROT_NONE;
  RegionKind kind = RegionKind::kAnon;
  bool shared = false;
  bool growsdown = false;  // MAP_GROWSDOWN or the main stack
  bool guard = false;      // MADV_GUARD_INSTALL: present for the host, faults for the guest
  bool dontfork = false;   // MADV_DONTFORK: a forked child does not inherit it
  bool operator==(const RegionAttrs&) const = default;

  bool library_owned() const {
    return kind == RegionKind::kMonitor || kind == RegionKind::kPageTables;
  }
  // Memory the guest can reach needs a slot; PROT_NONE gets none, so that large
  // reservations cost KVM nothing until they become accessible.
  bool needs_slot() const { return library_owned() || (prot & (PROT_READ | PROT_WRITE | PROT_EXEC)); }
};

// What the mirror holds for a /proc/self/maps line.
RegionAttrs attrs_from_proc_maps(const ProcMapsEntry& e);

class AddressSpace {
 public:
  explicit AddressSpace(std::pmr::memory_resource* mr) : map_(mr) {}

  IntervalMap<RegionAttrs>& regions() { return map_; }
  const IntervalMap<RegionAttrs>& regions() const { return map_; }
  // The region holding addr, or value == nullptr.
  std::pair<Range, const RegionAttrs*> find(uint64_t addr) const { return map_.find(addr); }

 private:
  IntervalMap<RegionAttrs> map_;
};

}  // namespace dune
