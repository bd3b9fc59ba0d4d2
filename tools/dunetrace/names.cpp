#include "names.h"

#include <dune/trace.h>
#include <sys/mman.h>

#include <cstring>

#include "syscalls/syscall_table.h"

namespace dunetrace {

namespace {
constexpr const char* kExitReasons[] = {nullptr,       "syscall",      "exception",   "trap_return", "hypercall",
                                        "mmio",        "memory_fault", "interrupted", "other"};

// Digits only: the number; else nothing.
std::optional<long> parse_number(std::string_view s) {
  if (s.empty() || s.size() > 9) return std::nullopt;
  long v = 0;
  for (char c : s) {
    if (c < '0' || c > '9') return std::nullopt;
    v = v * 10 + (c - '0');
  }
  return v;
}
}  // namespace

const char* exit_reason_name(uint32_t kind) {
  return kind >= kFirstExitKind && kind <= kLastExitKind ? kExitReasons[kind] : "unknown";
}

std::optional<uint32_t> exit_reason_from_name(std::string_view name) {
  for (uint32_t k = kFirstExitKind; k <= kLastExitKind; ++k)
    if (name == kExitReasons[k]) return k;
  return std::nullopt;
}

std::string vector_name(uint32_t vector) {
  switch (vector) {
    case 0: return "divide_error";
    case 1: return "debug";
    case 2: return "nmi";
    case 3: return "breakpoint";
    case 4: return "overflow";
    case 5: return "bound_range";
    case 6: return "invalid_opcode";
    case 7: return "device_not_available";
    case 8: return "double_fault";
    case 10: return "invalid_tss";
    case 11: return "segment_not_present";
    case 12: return "stack_fault";
    case 13: return "general_protection";
    case 14: return "page_fault";
    case 16: return "x87_fp";
    case 17: return "alignment_check";
    case 18: return "machine_check";
    case 19: return "simd_fp";
    default: return "vector_" + std::to_string(vector);
  }
}

std::string signal_name(int signo) {
  const char* abbrev = signo > 0 ? sigabbrev_np(signo) : nullptr;
  if (abbrev) return std::string("SIG") + abbrev;
  return "SIG" + std::to_string(signo);
}

std::optional<int> signal_from_name(std::string_view name) {
  if (auto n = parse_number(name)) return *n >= 1 && *n <= 64 ? std::optional<int>(static_cast<int>(*n)) : std::nullopt;
  if (name.substr(0, 3) == "SIG") name.remove_prefix(3);
  for (int s = 1; s <= 64; ++s) {
    const char* abbrev = sigabbrev_np(s);
    if (abbrev && name == abbrev) return s;
  }
  return std::nullopt;
}

std::string errno_name(int err) {
  const char* n = err > 0 ? strerrorname_np(err) : nullptr;
  return n ? n : "E" + std::to_string(err);
}

std::string errno_message(int err) {
  const char* d = err > 0 ? strerrordesc_np(err) : nullptr;
  return d ? d : "Unknown error " + std::to_string(err);
}

std::string prot_string(int prot) {
  std::string s = "---";
  if (prot & PROT_READ) s[0] = 'r';
  if (prot & PROT_WRITE) s[1] = 'w';
  if (prot & PROT_EXEC) s[2] = 'x';
  return s;
}

const char* map_kind_name(uint32_t kind) {
  switch (kind) {
    case DUNE_MAP_NONE: return "none";
    case DUNE_MAP_ANON: return "anon";
    case DUNE_MAP_FILE: return "file";
    case DUNE_MAP_STACK: return "stack";
    case DUNE_MAP_HEAP: return "heap";
    case DUNE_MAP_VDSO: return "vdso";
    case DUNE_MAP_SHM: return "shm";
    case DUNE_MAP_MONITOR: return "monitor";
    case DUNE_MAP_PAGE_TABLES: return "page-tables";
    default: return "unknown";
  }
}

const char* fault_outcome_name(uint32_t outcome) {
  switch (outcome) {
    case DUNE_FAULT_RESOLVED: return "resolved";
    case DUNE_FAULT_HANDLER: return "handler";
    case DUNE_FAULT_SIGNAL: return "signal";
    case DUNE_FAULT_FATAL: return "fatal";
    default: return "unknown";
  }
}

std::string syscall_name(long nr) {
  const char* n = dune::syscall_name(nr);
  return n ? n : "syscall_" + std::to_string(nr);
}

std::optional<long> syscall_from_name(std::string_view name) {
  if (auto n = parse_number(name)) return n;
  if (name.substr(0, 8) == "syscall_")
    if (auto n = parse_number(name.substr(8))) return n;
  long nr = dune::syscall_number(name);
  return nr >= 0 ? std::optional<long>(nr) : std::nullopt;
}

}  // namespace dunetrace
