#include "process_maps.h"

#include <sys/mman.h>

#include <algorithm>
#include <cstdlib>
#include <fstream>
#include <sstream>

namespace dunetrace {

std::vector<MappedRegion> parse_maps(const std::string& text) {
  std::vector<MappedRegion> out;
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line)) {
    // start-end perms offset dev inode   path
    MappedRegion r;
    char* p = line.data();
    char* end = nullptr;
    r.start = std::strtoull(p, &end, 16);
    if (*end != '-') continue;
    r.end = std::strtoull(end + 1, &end, 16);
    if (*end != ' ' || end[1] == 0 || end[2] == 0 || end[3] == 0) continue;
    const char* perms = end + 1;
    r.prot = (perms[0] == 'r' ? PROT_READ : 0) | (perms[1] == 'w' ? PROT_WRITE : 0) | (perms[2] == 'x' ? PROT_EXEC : 0);
    std::istringstream fields(std::string(perms + 4));
    std::string offset, dev, inode;
    if (!(fields >> offset >> dev >> inode)) continue;
    r.offset = std::strtoull(offset.c_str(), nullptr, 16);
    std::getline(fields, r.path);
    size_t first = r.path.find_first_not_of(' ');
    r.path = first == std::string::npos ? std::string() : r.path.substr(first);
    out.push_back(std::move(r));
  }
  std::sort(out.begin(), out.end(), [](const MappedRegion& a, const MappedRegion& b) { return a.start < b.start; });
  return out;
}

bool ProcessMaps::read(int pid, Proc& p) {
  std::ifstream f("/proc/" + std::to_string(pid) + "/maps");
  if (!f) return false;
  std::stringstream text;
  text << f.rdbuf();
  auto regions = parse_maps(text.str());
  if (regions.empty()) return false;  // the process is gone
  p.regions = std::move(regions);
  p.read_once = true;
  return true;
}

const MappedRegion* ProcessMaps::lookup(const Proc& p, uint64_t addr) {
  auto it = std::upper_bound(p.regions.begin(), p.regions.end(), addr,
                             [](uint64_t a, const MappedRegion& r) { return a < r.start; });
  if (it == p.regions.begin()) return nullptr;
  --it;
  return addr < it->end ? &*it : nullptr;
}

const MappedRegion* ProcessMaps::find(int pid, uint64_t addr, uint64_t event) {
  Proc& p = procs_[pid];
  if (p.read_once)
    if (const MappedRegion* r = lookup(p, addr)) return r;
  if (p.read_at_event == event) return nullptr;
  p.read_at_event = event;
  if (!read(pid, p)) return nullptr;
  return lookup(p, addr);
}

}  // namespace dunetrace
