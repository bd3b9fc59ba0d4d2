// vm_perm.h - the classic API's PERM_* flags as page-table entry bits, and its
// argument checks: pure functions, unit tested without a VM.
#pragma once

#include <dune/dune.h>

#include <cerrno>
#include <cstdint>

namespace dune::classic {

constexpr uint64_t kPage = 4096;
// Highest user address + 1 with 4-level paging.
constexpr uint64_t kVaTop = 1ull << 47;
// The bits a PERM_* value may hold.
constexpr int kPermKnown = PERM_R | PERM_W | PERM_X | PERM_U | PERM_UC | PERM_COW | PERM_USR1 |
                           PERM_USR2 | PERM_BIG | PERM_BIG_1GB;
// The bits of a leaf that say what it grants; the rest (A, D, software bits)
// belong to the MMU or the program.
constexpr uint64_t kGrantBits = PTE_P | PTE_W | PTE_U | PTE_NX | PTE_PCD;

// Validates perm as the original did: writable or user without readable is
// -EINVAL, large pages -ENOTSUP, unknown bits -EINVAL.
constexpr int check_perm(int perm) {
  if (perm & ~kPermKnown) return -EINVAL;
  if (perm & (PERM_BIG | PERM_BIG_1GB)) return -ENOTSUP;
  if (!(perm & PERM_R) && (perm & (PERM_W | PERM_X | PERM_U))) return -EINVAL;
  return 0;
}

// Leaf flags for perm (perm passed check_perm). Accessed and dirty start set,
// as in the library's own leaves: the program clears them to watch the MMU.
// nx: the CPU has no-execute (without it PTE_NX is a reserved bit).
constexpr uint64_t leaf_flags(int perm, bool nx) {
  if (!(perm & PERM_R)) return 0;
  uint64_t f = PTE_P | PTE_A | PTE_D;
  if (perm & PERM_W) f |= PTE_W;
  if (perm & PERM_U) f |= PTE_U;
  if (!(perm & PERM_X) && nx) f |= PTE_NX;
  if (perm & PERM_UC) f |= PTE_PCD;
  if (perm & PERM_COW) f |= PTE_COW;
  if (perm & PERM_USR1) f |= PTE_USR1;
  if (perm & PERM_USR2) f |= PTE_USR2;
  return f;
}

// Leaf flags on the process's own table: it runs in ring 3, so what it may
// reach is always user-accessible there.
constexpr uint64_t main_flags(int perm, bool nx) {
  uint64_t f = leaf_flags(perm, nx);
  return f ? (f | PTE_U) : 0;
}

// True if a change of a leaf from old to now takes a permission away (or moves
// the page, or clears A/D bits the MMU must set again): then cached
// translations must go.
constexpr bool lowers(uint64_t old, uint64_t now) {
  if (!(old & PTE_P)) return false;
  if (!(now & PTE_P)) return true;
  if (PTE_ADDR(old) != PTE_ADDR(now)) return true;
  if ((old & PTE_W) && !(now & PTE_W)) return true;
  if ((old & PTE_U) && !(now & PTE_U)) return true;
  if (!(old & PTE_NX) && (now & PTE_NX)) return true;
  if ((old & PTE_D) && !(now & PTE_D)) return true;
  if ((old & PTE_A) && !(now & PTE_A)) return true;
  return false;
}

// A page range [start, end) from the caller's (va, len): -EINVAL when va is
// not page aligned, len is 0, or the range leaves the user half. len is
// rounded up to whole pages, as mprotect does.
struct PageRange {
  uint64_t start = 0, end = 0;
  int error = 0;
};
constexpr PageRange page_range(uint64_t va, uint64_t len) {
  PageRange r;
  if ((va & (kPage - 1)) || len == 0) return PageRange{0, 0, -EINVAL};
  uint64_t l = (len + kPage - 1) & ~(kPage - 1);
  if (l < len || va >= kVaTop || l > kVaTop - va) return PageRange{0, 0, -EINVAL};
  r.start = va;
  r.end = va + l;
  return r;
}

// The walk's [start, end] (end inclusive, as the original's) as a half-open
// range clipped to the user half: start is rounded down to its page; an end
// past the user half (VA_END) means "to the top".
constexpr PageRange walk_range(uint64_t start_va, uint64_t end_va) {
  if (end_va < start_va) return PageRange{0, 0, -EINVAL};
  if (start_va >= kVaTop) return PageRange{0, 0, -EINVAL};
  uint64_t s = start_va & ~(kPage - 1);
  uint64_t e = end_va >= kVaTop - 1 ? kVaTop : ((end_va & ~(kPage - 1)) + kPage);
  return PageRange{s, e, 0};
}

}  // namespace dune::classic
