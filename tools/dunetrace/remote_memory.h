// remote_memory.h - another process's memory, read page by page with process_vm_readv.
#pragma once

#include <array>
#include <cstdint>
#include <memory>
#include <unordered_map>

namespace dunetrace {

// A checked view: an address that is not mapped in the process is a failed
// read, never a fault here. Pages are kept once read (for one look at a
// stopped thread).
class RemoteMemory {
 public:
  explicit RemoteMemory(int pid) : pid_(pid) {}
  bool read(uint64_t addr, void* out, size_t len);

 private:
  static constexpr uint64_t kPage = 4096;
  using Page = std::array<uint8_t, kPage>;
  const Page* page(uint64_t page_addr);
  int pid_;
  std::unordered_map<uint64_t, std::unique_ptr<Page>> pages_;  // null: unreadable
};

}  // namespace dunetrace
