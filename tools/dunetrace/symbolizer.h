// symbolizer.h - addresses of another process to function+offset and file:line.
//
// Boost.Stacktrace's frame API resolves addresses of the calling process only.
// dunetrace resolves another process's addresses with the backend Boost.Stacktrace
// ships on Debian (libboost_stacktrace_backtrace: libbacktrace), one state per
// module file, given link-time addresses; names are demangled with
// boost::core::demangle.
#pragma once

#include <cstdint>
#include <string>
#include <unordered_map>

namespace dunetrace {

class ElfImage;

struct Symbol {
  std::string function;  // demangled; "" if unknown
  uint64_t offset = 0;   // from the function's start
  bool has_offset = false;  // the symbol table gave the function's start
  std::string file;      // "" without debug information
  int line = 0;
};

class Symbolizer {
 public:
  Symbolizer();
  // The symbol at link-time address vaddr of the ELF file path (image: its
  // parsed headers). For a return address pass the call's address (vaddr - 1)
  // as lookup and the return address as vaddr: the line is the call's, the
  // offset the return address's.
  Symbol resolve(const std::string& path, const ElfImage& image, uint64_t vaddr, uint64_t lookup);

 private:
  struct State;
  State* state_for(const std::string& path);
  std::unordered_map<std::string, State*> states_;  // libbacktrace states live as long as the process
  uint64_t own_bias_ = 0;
  std::unordered_map<std::string, std::unordered_map<uint64_t, Symbol>> cache_;
};

}  // namespace dunetrace
