// elf_image.h - an ELF file mapped read-only: its loadable segments and unwind table.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <unordered_map>

namespace dunetrace {

class ElfImage {
 public:
  // nullptr if path cannot be read or is not a 64-bit ELF file.
  static std::unique_ptr<ElfImage> open(const std::string& path);
  ~ElfImage();
  ElfImage(const ElfImage&) = delete;
  ElfImage& operator=(const ElfImage&) = delete;

  // ET_DYN (shared object, PIE): loaded at a bias; ET_EXEC: at its own addresses.
  bool relocatable() const { return relocatable_; }
  // The link-time address where file offset off is loaded, if a segment holds it.
  std::optional<uint64_t> vaddr_of_offset(uint64_t off) const;
  // The lowest and highest link-time addresses of the loadable segments.
  uint64_t min_vaddr() const { return min_vaddr_; }
  uint64_t max_vaddr() const { return max_vaddr_; }

  // .eh_frame_hdr's binary search table (PT_GNU_EH_FRAME), link-time addresses.
  struct UnwindTable {
    uint64_t hdr_vaddr = 0;    // the header: the base of the table's offsets
    uint64_t table_vaddr = 0;  // the first entry
    uint64_t entries = 0;      // entries of two 4-byte offsets each
  };
  const std::optional<UnwindTable>& unwind_table() const { return unwind_table_; }

 private:
  ElfImage() = default;
  bool parse();

  const uint8_t* data_ = nullptr;
  size_t size_ = 0;
  bool relocatable_ = false;
  uint64_t min_vaddr_ = 0, max_vaddr_ = 0;
  struct Segment {
    uint64_t offset, filesz, vaddr;
  };
  Segment segments_[16];
  int nsegments_ = 0;
  std::optional<UnwindTable> unwind_table_;
};

// Images by path, each opened once (nullptr kept for files that are not ELF).
class ElfCache {
 public:
  const ElfImage* get(const std::string& path);

 private:
  std::unordered_map<std::string, std::unique_ptr<ElfImage>> images_;
};

}  // namespace dunetrace
