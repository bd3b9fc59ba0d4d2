#include "remote_memory.h"

#include <sys/uio.h>

#include <cstring>

namespace dunetrace {

const RemoteMemory::Page* RemoteMemory::page(uint64_t page_addr) {
  auto it = pages_.find(page_addr);
  if (it != pages_.end()) return it->second.get();
  auto p = std::make_unique<Page>();
  iovec local{p->data(), kPage};
  iovec remote{reinterpret_cast<void*>(page_addr), kPage};
  if (process_vm_readv(pid_, &local, 1, &remote, 1, 0) != static_cast<ssize_t>(kPage)) p.reset();
  return pages_.emplace(page_addr, std::move(p)).first->second.get();
}

bool RemoteMemory::read(uint64_t addr, void* out, size_t len) {
  auto* dst = static_cast<uint8_t*>(out);
  while (len) {
    if (addr + len < addr) return false;  // wraps around
    uint64_t base = addr & ~(kPage - 1);
    const Page* p = page(base);
    if (!p) return false;
    size_t in_page = static_cast<size_t>(kPage - (addr - base));
    size_t n = len < in_page ? len : in_page;
    std::memcpy(dst, p->data() + (addr - base), n);
    dst += n;
    addr += n;
    len -= n;
  }
  return true;
}

}  // namespace dunetrace
