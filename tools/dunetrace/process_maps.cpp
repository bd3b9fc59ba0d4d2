#include "process_maps.h"

#include <sys/mman.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
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

namespace {

// The regions a maps file lists; none if it cannot be read.
std::vector<MappedRegion> read_maps(const std::string& path) {
  std::ifstream f(path);
  if (!f) return {};
  std::stringstream text;
  text << f.rdbuf();
  return parse_maps(text.str());
}

}  // namespace

bool ProcessMaps::read(int pid, Proc& p) {
  std::string dir = "/proc/" + std::to_string(pid);
  auto regions = read_maps(dir + "/maps");
  // The first thread has exited while others run: its maps are empty, any
  // other thread's are the process's.
  std::error_code ec;
  for (std::filesystem::directory_iterator it(dir + "/task", ec), end; regions.empty() && !ec && it != end;
       it.increment(ec))
    regions = read_maps(it->path().string() + "/maps");
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
