// decode_memory.cpp - the address space: mmap, mprotect, munmap, brk, madvise, mremap.
#include <fmt/format.h>
#include <sys/syscall.h>

#include "decoder.h"

namespace dunetrace::decode {

namespace {

constexpr Named kProt[] = {{0, "PROT_NONE"},  {1, "PROT_READ"}, {2, "PROT_WRITE"}, {4, "PROT_EXEC"},
                           {8, "PROT_SEM"},   {0x1000000, "PROT_GROWSDOWN"}, {0x2000000, "PROT_GROWSUP"}};
constexpr Named kMapType[] = {{1, "MAP_SHARED"}, {2, "MAP_PRIVATE"}, {3, "MAP_SHARED_VALIDATE"}};
constexpr Named kMapFlags[] = {
    {0x10, "MAP_FIXED"},        {0x20, "MAP_ANONYMOUS"},   {0x40, "MAP_32BIT"},     {0x100, "MAP_GROWSDOWN"},
    {0x800, "MAP_DENYWRITE"},   {0x1000, "MAP_EXECUTABLE"}, {0x2000, "MAP_LOCKED"},  {0x4000, "MAP_NORESERVE"},
    {0x8000, "MAP_POPULATE"},   {0x10000, "MAP_NONBLOCK"},  {0x20000, "MAP_STACK"},  {0x40000, "MAP_HUGETLB"},
    {0x80000, "MAP_SYNC"},      {0x100000, "MAP_FIXED_NOREPLACE"}, {0x4000000, "MAP_UNINITIALIZED"},
};
constexpr Named kMadvise[] = {
    {0, "MADV_NORMAL"},       {1, "MADV_RANDOM"},        {2, "MADV_SEQUENTIAL"},  {3, "MADV_WILLNEED"},
    {4, "MADV_DONTNEED"},     {8, "MADV_FREE"},          {9, "MADV_REMOVE"},      {10, "MADV_DONTFORK"},
    {11, "MADV_DOFORK"},      {12, "MADV_MERGEABLE"},    {13, "MADV_UNMERGEABLE"}, {14, "MADV_HUGEPAGE"},
    {15, "MADV_NOHUGEPAGE"},  {16, "MADV_DONTDUMP"},     {17, "MADV_DODUMP"},     {18, "MADV_WIPEONFORK"},
    {19, "MADV_KEEPONFORK"},  {20, "MADV_COLD"},         {21, "MADV_PAGEOUT"},    {22, "MADV_POPULATE_READ"},
    {23, "MADV_POPULATE_WRITE"}, {24, "MADV_DONTNEED_LOCKED"}, {25, "MADV_COLLAPSE"}, {100, "MADV_HWPOISON"},
    {101, "MADV_SOFT_OFFLINE"},
};
constexpr Named kMremap[] = {{1, "MREMAP_MAYMOVE"}, {2, "MREMAP_FIXED"}, {4, "MREMAP_DONTUNMAP"}};
constexpr Named kMsync[] = {{1, "MS_ASYNC"}, {2, "MS_INVALIDATE"}, {4, "MS_SYNC"}};
constexpr Named kMlockall[] = {{1, "MCL_CURRENT"}, {2, "MCL_FUTURE"}, {4, "MCL_ONFAULT"}};

std::string prot_text(uint64_t p) { return flags(p, kProt); }

std::string map_flags(uint64_t f) {
  std::string s = xlat(f & 0xf, kMapType);
  uint64_t rest = f & ~0xfull;
  if (rest) s += "|" + flags(rest, kMapFlags);
  return s;
}

void mmap_(Ctx& c) {
  c.push(c.ptr(0));
  c.push(c.ulong(1));
  c.push(prot_text(c.arg(2)));
  c.push(map_flags(c.arg(3)));
  c.push(c.fd(4));
  c.push(c_hex(c.arg(5)));
  c.result(ResultStyle::kHex);
}
void mprotect_(Ctx& c) {
  c.push(c.ptr(0));
  c.push(c.ulong(1));
  c.push(prot_text(c.arg(2)));
}
void pkey_mprotect_(Ctx& c) {
  mprotect_(c);
  c.push(c.integer(3));
}
void addr_len(Ctx& c) {
  c.push(c.ptr(0));
  c.push(c.ulong(1));
}
void brk_(Ctx& c) {
  c.push(c.ptr(0));
  c.result(ResultStyle::kHex);
}
void madvise_(Ctx& c) {
  addr_len(c);
  c.push(xlat(c.arg(2), kMadvise, "MADV_", false));
}
void mremap_(Ctx& c) {
  c.push(c.ptr(0));
  c.push(c.ulong(1));
  c.push(c.ulong(2));
  c.push(flags(c.arg(3), kMremap));
  if (c.arg(3) & 2) c.push(c.ptr(4));
  c.result(ResultStyle::kHex);
}
void msync_(Ctx& c) {
  addr_len(c);
  c.push(flags(c.arg(2), kMsync));
}
void mlockall_(Ctx& c) { c.push(flags(c.arg(0), kMlockall)); }
void mincore_(Ctx& c) {
  addr_len(c);
  c.push(c.ptr(2));
}

}  // namespace

const DecoderEntry kMemoryDecoders[] = {
    {SYS_mmap, mmap_},       {SYS_mprotect, mprotect_}, {SYS_pkey_mprotect, pkey_mprotect_},
    {SYS_munmap, addr_len},  {SYS_brk, brk_},           {SYS_madvise, madvise_},
    {SYS_mremap, mremap_},   {SYS_msync, msync_},       {SYS_mlock, addr_len},
    {SYS_munlock, addr_len}, {SYS_mlockall, mlockall_}, {SYS_mincore, mincore_},
};
const size_t kMemoryDecodersCount = sizeof kMemoryDecoders / sizeof kMemoryDecoders[0];

}  // namespace dunetrace::decode
