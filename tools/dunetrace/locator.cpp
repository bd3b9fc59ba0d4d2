#include "locator.h"

#include "elf_image.h"
#include "process_maps.h"

namespace dunetrace {

Location Locator::locate(int pid, uint64_t ip, bool return_address, uint64_t event) {
  Location loc;
  loc.ip = ip;
  const MappedRegion* r = maps_.find(pid, ip, event);
  if (!r) return loc;
  loc.module = r->path;
  loc.module_offset = ip - r->start + r->offset;
  if (!r->file()) return loc;
  const ElfImage* image = elves_.get(r->path);
  if (!image) return loc;
  auto vaddr = image->vaddr_of_offset(loc.module_offset);
  if (!vaddr) return loc;
  loc.symbol = symbols_.resolve(r->path, *image, *vaddr, return_address ? *vaddr - 1 : *vaddr);
  return loc;
}

}  // namespace dunetrace
