#include <cstring>

#include "syscall_capture.h"

namespace dune::trace_wire {

namespace {

class Writer {
 public:
  Writer(uint8_t* area, size_t room) : area_(area), room_(room) {}
  size_t used() const { return used_; }
  // Room for a blob of up to want bytes: the header is written by finish.
  uint8_t* begin(size_t want, size_t* got) {
    if (used_ + sizeof(BlobHeader) > room_) {
      *got = 0;
      return nullptr;
    }
    size_t free = room_ - used_ - sizeof(BlobHeader);
    *got = want < free ? want : free;
    return area_ + used_ + sizeof(BlobHeader);
  }
  void finish(int arg, int sub, CaptureStatus st, size_t len) {
    BlobHeader h{static_cast<uint8_t>(arg), static_cast<uint8_t>(sub), st, 0, static_cast<uint32_t>(len)};
    std::memcpy(area_ + used_, &h, sizeof h);
    used_ += sizeof h + len;
  }
  bool full() const { return used_ + sizeof(BlobHeader) > room_; }

 private:
  uint8_t* area_;
  size_t room_;
  size_t used_ = 0;
};

constexpr uint64_t kPage = 4096;

// A NUL-terminated string at addr, at most max bytes (without its NUL), read a
// page at a time so that a string near an unmapped page is still read.
void put_string(Writer& w, int arg, int sub, uint64_t addr, size_t max, CaptureReader read) {
  size_t room;
  uint8_t* dst = w.begin(max, &room);
  if (!dst) return;
  if (!addr) {
    w.finish(arg, sub, kCapFault, 0);
    return;
  }
  size_t n = 0;
  while (n < room) {
    uint64_t at = addr + n;
    size_t chunk = kPage - (at % kPage);
    if (chunk > room - n) chunk = room - n;
    if (!read(at, dst + n, chunk)) {
      w.finish(arg, sub, n ? kCapPartial : kCapFault, n);
      return;
    }
    const void* nul = std::memchr(dst + n, 0, chunk);
    if (nul) {
      w.finish(arg, sub, kCapOk, static_cast<size_t>(static_cast<const uint8_t*>(nul) - dst));
      return;
    }
    n += chunk;
  }
  w.finish(arg, sub, kCapPartial, n);
}

void put_bytes(Writer& w, int arg, int sub, uint64_t addr, size_t len, CaptureReader read) {
  size_t room;
  uint8_t* dst = w.begin(len, &room);
  if (!dst) return;
  bool good = len == 0 || (room > 0 && read(addr, dst, room));
  w.finish(arg, sub, good ? kCapOk : kCapFault, good ? room : 0);
}

// A blob of one count: what kDirents sends instead of the memory.
void put_count_blob(Writer& w, int arg, CaptureStatus st, uint32_t count) {
  size_t room;
  uint8_t* dst = w.begin(4, &room);
  if (!dst || room < 4) return;
  std::memcpy(dst, &count, 4);
  w.finish(arg, 0, st, 4);
}

// Whether the environment string at addr is one dunetrace put there:
// DUNE_TRACE=..., or LD_PRELOAD naming the shim alone (had the program an
// LD_PRELOAD of its own, the shim joined it: the count is the program's).
bool tracers_own(uint64_t addr, CaptureReader read) {
  char s[512];
  size_t n = 0;
  while (n < sizeof s) {
    size_t chunk = kPage - ((addr + n) % kPage);
    if (chunk > sizeof s - n) chunk = sizeof s - n;
    if (!read(addr + n, s + n, chunk)) break;
    const void* nul = std::memchr(s + n, 0, chunk);
    n += chunk;
    if (nul) break;
  }
  const char* end = static_cast<const char*>(std::memchr(s, 0, n));
  if (!end) return false;
  size_t len = static_cast<size_t>(end - s);
  if (len >= 11 && std::memcmp(s, "DUNE_TRACE=", 11) == 0) return true;
  constexpr char kShim[] = "/libdune_preload.so";
  constexpr size_t kShimLen = sizeof kShim - 1;
  return len > 11 + kShimLen && std::memcmp(s, "LD_PRELOAD=", 11) == 0 && !std::memchr(s, ':', len) &&
         std::memcmp(end - kShimLen, kShim, kShimLen) == 0;
}

// Counts the pointers of a NULL-terminated array (at most 1 << 20), and of
// them the strings dunetrace added to the environment: two counts.
void put_count(Writer& w, int arg, uint64_t addr, CaptureReader read) {
  uint32_t count[2] = {0, 0};
  CaptureStatus st = kCapOk;
  uint64_t ptrs[64];
  for (uint64_t at = addr; count[0] < (1u << 20);) {
    size_t chunk = sizeof ptrs;
    uint64_t to_page = kPage - (at % kPage);
    if (to_page < chunk) chunk = to_page;
    if (!read(at, ptrs, chunk)) {
      st = kCapFault;
      break;
    }
    size_t k = 0;
    for (; k < chunk / 8 && ptrs[k]; ++k) {
      ++count[0];
      if (tracers_own(ptrs[k], read)) ++count[1];
    }
    if (k < chunk / 8) break;
    at += chunk;
  }
  size_t room;
  uint8_t* dst = w.begin(sizeof count, &room);
  if (!dst || room < sizeof count) return;
  std::memcpy(dst, count, sizeof count);
  w.finish(arg, 0, st, sizeof count);
}

void put_dirents(Writer& w, int arg, uint64_t addr, uint64_t len, CaptureReader read) {
  uint32_t count = 0;
  CaptureStatus st = kCapOk;
  for (uint64_t off = 0; off + 19 <= len;) {
    uint16_t reclen = 0;  // linux_dirent64: d_ino, d_off, then d_reclen at 16
    if (!read(addr + off + 16, &reclen, 2) || reclen == 0) {
      st = kCapFault;
      break;
    }
    ++count;
    off += reclen;
  }
  put_count_blob(w, arg, st, count);
}

void put_iovec(Writer& w, const CaptureItem& it, uint64_t addr, uint32_t limit, CaptureReader read) {
  uint32_t n = it.len < limit ? it.len : limit;
  if (n > 64) n = 64;
  uint64_t iov[2 * 64];
  size_t room;
  uint8_t* dst = w.begin(n * 16, &room);
  if (!dst) return;
  if (room < n * 16 || !read(addr, iov, n * 16)) {
    w.finish(it.arg, 0, kCapFault, 0);
    return;
  }
  std::memcpy(dst, iov, n * 16);
  w.finish(it.arg, 0, kCapOk, n * 16);
  uint64_t left = it.total;
  for (uint32_t i = 0; i < n && !w.full(); ++i) {
    uint64_t len = iov[2 * i + 1];
    if (len > left) len = left;
    left -= len;
    put_bytes(w, it.arg, static_cast<int>(i + 1), iov[2 * i], len > limit ? limit : len, read);
  }
}

// struct msghdr: name, namelen, iov, iovlen, control, controllen, flags.
void put_msghdr(Writer& w, const CaptureItem& it, uint64_t addr, uint32_t limit, CaptureReader read) {
  constexpr size_t kMsghdr = 56;
  uint64_t m[7];
  size_t room;
  uint8_t* dst = w.begin(kMsghdr, &room);
  if (!dst) return;
  if (room < kMsghdr || !read(addr, m, kMsghdr)) {
    w.finish(it.arg, 0, kCapFault, 0);
    return;
  }
  std::memcpy(dst, m, kMsghdr);
  w.finish(it.arg, 0, kCapOk, kMsghdr);
  uint64_t namelen = static_cast<uint32_t>(m[1]);
  if (m[0] && namelen) put_bytes(w, kMsgNameArg, 0, m[0], namelen > 128 ? 128 : namelen, read);
  if (m[2] && m[3]) {
    CaptureItem iov{kMsgIovArg, CaptureKind::kIovec, static_cast<uint32_t>(m[3] > 1024 ? 1024 : m[3]), it.total};
    put_iovec(w, iov, m[2], limit, read);
  }
  if (m[4] && m[5]) put_bytes(w, kMsgControlArg, 0, m[4], m[5] > 256 ? 256 : m[5], read);
}

void put_strings(Writer& w, int arg, uint64_t addr, uint32_t limit, CaptureReader read) {
  uint32_t n = limit < 64 ? limit : 64;
  uint64_t ptrs[64];
  uint32_t have = 0;
  for (; have < n; ++have)
    if (!read(addr + 8ull * have, &ptrs[have], 8) || !ptrs[have]) break;
  // sub 0: how many there were (and whether the array went on past them).
  size_t room;
  uint8_t* dst = w.begin(4, &room);
  if (!dst || room < 4) return;
  uint32_t more = 0;
  if (have == n) {
    uint64_t next = 0;
    more = read(addr + 8ull * have, &next, 8) && next ? 1 : 0;
  }
  uint32_t head = have | (more << 31);
  std::memcpy(dst, &head, 4);
  w.finish(arg, 0, have == 0 && !addr ? kCapFault : kCapOk, 4);
  for (uint32_t i = 0; i < have; ++i) put_string(w, arg, static_cast<int>(i + 1), ptrs[i], limit + 1, read);
}

}  // namespace

size_t run_capture(const CaptureItem* items, int n, const uint64_t (&a)[6], uint32_t limit, CaptureReader read,
                   uint8_t* area, size_t room, uint64_t sp) {
  Writer w(area, room);
  for (int i = 0; i < n; ++i) {
    const CaptureItem& it = items[i];
    uint64_t addr = a[it.arg];
    switch (it.kind) {
      case CaptureKind::kPath: put_string(w, it.arg, 0, addr, kPathMax, read); break;
      case CaptureKind::kString: put_string(w, it.arg, 0, addr, limit + 1, read); break;
      case CaptureKind::kBytes:
        if (addr) {
          // Structs whole; buffers as far as -s shows them.
          uint32_t most = limit > 256 ? limit : 256;
          put_bytes(w, it.arg, 0, addr, it.len > most ? most : it.len, read);
        }
        break;
      case CaptureKind::kIovec:
        if (addr) put_iovec(w, it, addr, limit, read);
        break;
      case CaptureKind::kStrings:
        if (addr) put_strings(w, it.arg, addr, limit, read);
        break;
      case CaptureKind::kCount:
        if (addr) put_count(w, it.arg, addr, read);
        break;
      case CaptureKind::kDirents:
        if (addr) put_dirents(w, it.arg, addr, it.len, read);
        break;
      case CaptureKind::kFrameMask:
        if (sp) put_bytes(w, it.arg, 0, sp + kFrameMaskOffset, 8, read);
        break;
      case CaptureKind::kMsghdr:
        if (addr) put_msghdr(w, it, addr, limit, read);
        break;
    }
  }
  return w.used();
}

size_t run_entry_capture(const CaptureItem* items, int n, const uint64_t (&a)[6], CaptureReader read, uint8_t* area,
                         size_t room) {
  // No string or buffer is in an entry plan: the limit does not matter.
  size_t used = run_capture(items, n, a, 256, read, area, room);
  for (size_t at = 0; at + sizeof(BlobHeader) <= used;) {
    BlobHeader h;
    std::memcpy(&h, area + at, sizeof h);
    h.when = kAtEntry;
    std::memcpy(area + at, &h, sizeof h);
    at += sizeof h + h.len;
  }
  return used;
}

}  // namespace dune::trace_wire
