// process_maps.h - the mappings of traced processes, from /proc/PID/maps.
#pragma once

#include <cstdint>
#include <string>
#include <unordered_map>
#include <vector>

namespace dunetrace {

struct MappedRegion {
  uint64_t start = 0, end = 0;
  uint64_t offset = 0;  // file offset of start
  int prot = 0;
  std::string path;     // "" anonymous, "[heap]", "/usr/lib/..."
  bool file() const { return !path.empty() && path[0] == '/'; }
};

// Parses the text of a maps file.
std::vector<MappedRegion> parse_maps(const std::string& text);

class ProcessMaps {
 public:
  // The region of pid holding addr. The maps are read when first needed and
  // again when addr is in none of them (a library loaded since), at most once
  // per event (`event`: a number that changes with each event).
  const MappedRegion* find(int pid, uint64_t addr, uint64_t event);
  // pid exec'd a new image (or ended): forget what it had.
  void forget(int pid) { procs_.erase(pid); }

 private:
  struct Proc {
    std::vector<MappedRegion> regions;  // sorted
    uint64_t read_at_event = ~0ull;
    bool read_once = false;
  };
  bool read(int pid, Proc& p);
  static const MappedRegion* lookup(const Proc& p, uint64_t addr);
  std::unordered_map<int, Proc> procs_;
};

}  // namespace dunetrace
