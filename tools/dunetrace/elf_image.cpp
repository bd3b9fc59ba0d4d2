#include "elf_image.h"

#include <elf.h>
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstring>

namespace dunetrace {

namespace {

constexpr uint8_t kPeOmit = 0xff;

// Size of a DW_EH_PE-encoded value in .eh_frame_hdr (the forms linkers emit).
int encoded_size(uint8_t enc) {
  switch (enc & 0x0f) {
    case 0x02: case 0x0a: return 2;  // udata2, sdata2
    case 0x03: case 0x0b: return 4;  // udata4, sdata4
    case 0x04: case 0x0c: return 8;  // udata8, sdata8
    default: return -1;
  }
}

}  // namespace

std::unique_ptr<ElfImage> ElfImage::open(const std::string& path) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return nullptr;
  struct stat st {};
  void* mem = MAP_FAILED;
  if (fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && st.st_size >= static_cast<off_t>(sizeof(Elf64_Ehdr)))
    mem = mmap(nullptr, static_cast<size_t>(st.st_size), PROT_READ, MAP_PRIVATE, fd, 0);
  close(fd);
  if (mem == MAP_FAILED) return nullptr;
  std::unique_ptr<ElfImage> img(new ElfImage());
  img->data_ = static_cast<const uint8_t*>(mem);
  img->size_ = static_cast<size_t>(st.st_size);
  if (!img->parse()) return nullptr;
  return img;
}

ElfImage::~ElfImage() {
  if (data_) munmap(const_cast<uint8_t*>(data_), size_);
}

bool ElfImage::parse() {
  Elf64_Ehdr eh;
  std::memcpy(&eh, data_, sizeof eh);
  if (std::memcmp(eh.e_ident, ELFMAG, SELFMAG) != 0 || eh.e_ident[EI_CLASS] != ELFCLASS64) return false;
  relocatable_ = eh.e_type == ET_DYN;
  if (eh.e_phentsize != sizeof(Elf64_Phdr) || eh.e_phoff > size_ ||
      eh.e_phnum > (size_ - eh.e_phoff) / sizeof(Elf64_Phdr))
    return false;
  bool first = true;
  const Elf64_Phdr* eh_frame = nullptr;
  for (int i = 0; i < eh.e_phnum; ++i) {
    const auto* ph = reinterpret_cast<const Elf64_Phdr*>(data_ + eh.e_phoff + i * sizeof(Elf64_Phdr));
    if (ph->p_type == PT_GNU_EH_FRAME) eh_frame = ph;
    if (ph->p_type != PT_LOAD) continue;
    if (nsegments_ < static_cast<int>(std::size(segments_))) segments_[nsegments_++] = {ph->p_offset, ph->p_filesz, ph->p_vaddr};
    min_vaddr_ = first ? ph->p_vaddr : std::min<uint64_t>(min_vaddr_, ph->p_vaddr);
    max_vaddr_ = std::max<uint64_t>(max_vaddr_, ph->p_vaddr + ph->p_memsz);
    first = false;
  }
  if (eh_frame && eh_frame->p_offset + 12 <= size_) {
    const uint8_t* hdr = data_ + eh_frame->p_offset;
    uint8_t version = hdr[0], ptr_enc = hdr[1], count_enc = hdr[2], table_enc = hdr[3];
    int ptr_size = encoded_size(ptr_enc), count_size = encoded_size(count_enc);
    // libunwind searches tables of (datarel sdata4, datarel sdata4) pairs.
    if (version == 1 && ptr_size > 0 && count_size > 0 && count_enc != kPeOmit && table_enc == 0x3b &&
        eh_frame->p_offset + 4 + ptr_size + count_size <= size_) {
      uint64_t count = 0;
      std::memcpy(&count, hdr + 4 + ptr_size, static_cast<size_t>(count_size));
      UnwindTable t;
      t.hdr_vaddr = eh_frame->p_vaddr;
      t.table_vaddr = eh_frame->p_vaddr + 4 + ptr_size + count_size;
      t.entries = count;
      unwind_table_ = t;
    }
  }
  return nsegments_ > 0;
}

std::optional<uint64_t> ElfImage::vaddr_of_offset(uint64_t off) const {
  for (int i = 0; i < nsegments_; ++i) {
    const Segment& s = segments_[i];
    // A mapping starts at a page-aligned offset, possibly before its segment's.
    uint64_t page_start = s.offset & ~uint64_t{4095};
    if (off >= page_start && off < s.offset + s.filesz) return s.vaddr - (s.offset - off);
  }
  return std::nullopt;
}

const ElfImage* ElfCache::get(const std::string& path) {
  auto it = images_.find(path);
  if (it == images_.end()) it = images_.emplace(path, ElfImage::open(path)).first;
  return it->second.get();
}

}  // namespace dunetrace
