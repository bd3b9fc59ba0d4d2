#include "symbolizer.h"

#include <backtrace.h>
#include <link.h>

#include <boost/core/demangle.hpp>

#include "elf_image.h"

namespace dunetrace {

struct Symbolizer::State {
  backtrace_state* bt = nullptr;
};

namespace {

void ignore_error(void*, const char*, int) {}

struct Lookup {
  std::string debug_function;  // from the debug information: the innermost, maybe inlined, function
  std::string file;
  int line = 0;
  std::string symbol;  // from the symbol table: the function the address is in
  uint64_t symbol_start = 0;
};

int on_pcinfo(void* data, uintptr_t, const char* file, int line, const char* function) {
  auto* l = static_cast<Lookup*>(data);
  // The first callback is the innermost frame: the code that is there.
  if (!l->file.empty() || !file) return 0;
  l->file = file;
  l->line = line;
  if (function) l->debug_function = function;
  return 0;
}

void on_syminfo(void* data, uintptr_t, const char* name, uintptr_t value, uintptr_t) {
  auto* l = static_cast<Lookup*>(data);
  if (!name) return;
  l->symbol = name;
  l->symbol_start = value;
}

int first_object_bias(dl_phdr_info* info, size_t, void* out) {
  *static_cast<uint64_t*>(out) = info->dlpi_addr;
  return 1;  // the first object is the program itself
}

}  // namespace

Symbolizer::Symbolizer() {
  // libbacktrace loads a relocatable file given as "the executable" at this
  // program's own load bias (it takes it for the running PIE): addresses of
  // such files are passed offset by it.
  dl_iterate_phdr(first_object_bias, &own_bias_);
}

Symbolizer::State* Symbolizer::state_for(const std::string& path) {
  auto it = states_.find(path);
  if (it != states_.end()) return it->second;
  auto* s = new State;
  s->bt = backtrace_create_state(path.c_str(), 0, ignore_error, nullptr);
  states_.emplace(path, s);
  return s;
}

Symbol Symbolizer::resolve(const std::string& path, const ElfImage& image, uint64_t vaddr, uint64_t lookup) {
  auto& per_file = cache_[path];
  // Keyed by the address and whether it is a return address (lookup differs).
  uint64_t key = vaddr * 2 + (lookup != vaddr);
  if (auto it = per_file.find(key); it != per_file.end()) return it->second;
  Symbol sym;
  State* s = state_for(path);
  if (s->bt) {
    uint64_t bias = image.relocatable() ? own_bias_ : 0;
    Lookup l;
    backtrace_pcinfo(s->bt, lookup + bias, on_pcinfo, ignore_error, &l);
    backtrace_syminfo(s->bt, lookup + bias, on_syminfo, ignore_error, &l);
    if (!l.symbol.empty() && l.symbol_start >= bias && l.symbol_start - bias <= vaddr) {
      sym.function = boost::core::demangle(l.symbol.c_str());
      sym.offset = vaddr - (l.symbol_start - bias);
      sym.has_offset = true;
    } else if (!l.debug_function.empty()) {
      sym.function = boost::core::demangle(l.debug_function.c_str());
    }
    if (l.line > 0) {
      sym.file = l.file;
      sym.line = l.line;
    }
  }
  per_file.emplace(key, sym);
  return sym;
}

}  // namespace dunetrace
