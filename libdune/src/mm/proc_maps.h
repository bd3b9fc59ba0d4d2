// proc_maps.h - reads and parses /proc/self/maps without malloc.
#pragma once

#include <cstdint>
#include <string_view>

#include "base/mapping.h"
#include "base/result.h"

namespace dune {

struct ProcMapsEntry {
  uint64_t start = 0;
  uint64_t end = 0;
  int prot = 0;  // PROT_READ | PROT_WRITE | PROT_EXEC
  bool shared = false;
  uint64_t offset = 0;
  uint64_t inode = 0;
  std::string_view path;  // "" for anonymous, "[stack]", "[heap]", "/usr/lib/..."
};

// Parses one line of /proc/<pid>/maps. False if the line is malformed.
bool parse_proc_maps_line(std::string_view line, ProcMapsEntry* out);

// The whole text of /proc/self/maps, read in one consistent pass into memory of
// its own (an mmap'd buffer, so that this is safe on the host side of a guest).
class ProcMapsSnapshot {
 public:
  static Result<ProcMapsSnapshot> read_self();
  // Parses text that is already in memory (tests).
  static ProcMapsSnapshot from_text(std::string_view text);

  // Calls fn(const ProcMapsEntry&) for each line; stops early if fn returns false.
  template <typename Fn>
  void for_each(Fn&& fn) const {
    std::string_view rest = text_;
    while (!rest.empty()) {
      size_t nl = rest.find('\n');
      std::string_view line = rest.substr(0, nl);
      rest = nl == std::string_view::npos ? std::string_view{} : rest.substr(nl + 1);
      ProcMapsEntry e;
      if (parse_proc_maps_line(line, &e) && !fn(e)) return;
    }
  }
  std::string_view text() const { return text_; }

 private:
  Mapping buffer_;
  std::string_view text_;
};

}  // namespace dune
