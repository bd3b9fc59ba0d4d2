// locator.h - where an address of a traced process is: module, offset, function, line.
#pragma once

#include <cstdint>
#include <string>

#include "symbolizer.h"

namespace dunetrace {

class ElfCache;
class ProcessMaps;

struct Location {
  uint64_t ip = 0;
  std::string module;          // the mapping's path ("/usr/lib/...", "[vdso]"), "" if none
  uint64_t module_offset = 0;  // file offset of ip in module
  Symbol symbol;
};

class Locator {
 public:
  Locator(ProcessMaps& maps, ElfCache& elves, Symbolizer& symbols) : maps_(maps), elves_(elves), symbols_(symbols) {}
  // return_address: ip follows a call (its line is the call's).
  Location locate(int pid, uint64_t ip, bool return_address, uint64_t event);

 private:
  ProcessMaps& maps_;
  ElfCache& elves_;
  Symbolizer& symbols_;
};

}  // namespace dunetrace
