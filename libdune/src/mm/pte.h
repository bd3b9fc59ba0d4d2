// pte.h - x86-64 page-table entry bits and the guest flags for a protection.
#pragma once

#include <sys/mman.h>

#include <cstdint>

namespace dune::pte {

constexpr uint64_t kPresent = 1ull << 0;
constexpr uint64_t kWritable = 1ull << 1;
constexpr uint64_t kUser = 1ull << 2;
constexpr uint64_t kWriteThrough = 1ull << 3;
constexpr uint64_t kCacheDisable = 1ull << 4;
constexpr uint64_t kAccessed = 1ull << 5;
constexpr uint64_t kDirty = 1ull << 6;
constexpr uint64_t kLarge = 1ull << 7;
constexpr uint64_t kGlobal = 1ull << 8;
constexpr uint64_t kNoExec = 1ull << 63;
// Software, the library's: this leaf's permission is the program's, set
// through the classic API (MemoryManager::set_override). A fault that the
// leaf refuses is then the program's to handle, which guest ring 0 may tell
// without the host (monitor/exception_gate.cpp).
//
// Such a leaf is the program's record of the page's permission: the guest
// changes it without the host (classic/guest_walk.h) and the host reads it
// before its own records (MemoryManager::effective_flags). No access
// (PERM_NONE, dune_vm_unmap on pgroot) is a record too: a leaf that is not
// present, holding the page's address and this bit, as the original Dune
// left the address in a PERM_NONE leaf. The CPU ignores every other bit of a
// leaf that is not present.
constexpr uint64_t kProgramPerm = 1ull << 52;
constexpr uint64_t kAddrMask = 0x000ffffffffff000ull;
constexpr uint64_t kFlagsMask = ~kAddrMask;

constexpr uint64_t kPageSize = 4096;

// Whether a leaf is the program's record of its page's permission.
constexpr bool is_record(uint64_t leaf) { return (leaf & kProgramPerm) != 0; }

// Leaf flags for user memory with protection `prot`, 0 (not present) for
// PROT_NONE. Accessed and dirty start set: the MMU need not set them (with
// shadow paging every first write would otherwise be an extra trap).
constexpr uint64_t user_flags(int prot, bool nx_supported) {
  if ((prot & (PROT_READ | PROT_WRITE | PROT_EXEC)) == 0) return 0;
  uint64_t f = kPresent | kUser | kAccessed | kDirty;
  if (prot & PROT_WRITE) f |= kWritable;
  if (!(prot & PROT_EXEC) && nx_supported) f |= kNoExec;
  return f;
}

// Leaf flags for the monitor's own structures: supervisor only.
constexpr uint64_t supervisor_flags(bool writable, bool nx_supported) {
  uint64_t f = kPresent | kAccessed | kDirty;
  if (writable) f |= kWritable;
  if (nx_supported) f |= kNoExec;
  return f;
}

// The protection a leaf grants to ring 3.
constexpr int prot_of(uint64_t leaf) {
  if (!(leaf & kPresent) || !(leaf & kUser)) return PROT_NONE;
  int p = PROT_READ;
  if (leaf & kWritable) p |= PROT_WRITE;
  if (!(leaf & kNoExec)) p |= PROT_EXEC;
  return p;
}

}  // namespace dune::pte
