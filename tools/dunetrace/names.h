// names.h - names dunetrace prints and parses: exit reasons, vectors, signals, errnos, protections.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace dunetrace {

// dune_exit_kind <-> "syscall", "exception", "trap_return", "hypercall", "mmio",
// "memory_fault", "interrupted", "other".
const char* exit_reason_name(uint32_t kind);
std::optional<uint32_t> exit_reason_from_name(std::string_view name);
constexpr uint32_t kFirstExitKind = 1, kLastExitKind = 8;

// Exception vectors: "page_fault", "general_protection", ... ("vector_N" otherwise).
std::string vector_name(uint32_t vector);

// "SIGSEGV" (or "SIG42"); a name with or without "SIG", or a number, back.
std::string signal_name(int signo);
std::optional<int> signal_from_name(std::string_view name);

// "ENOENT" for 2 (or "E42"), and its message.
std::string errno_name(int err);
std::string errno_message(int err);

// "rw-", "r-x", "---".
std::string prot_string(int prot);
// dune_map_kind: "anon", "file", "stack", "heap", "vdso", "shm", "monitor", "none".
const char* map_kind_name(uint32_t kind);
// dune_fault_outcome: "resolved", "handler", "signal", "fatal".
const char* fault_outcome_name(uint32_t outcome);

// Syscall names of x86-64 ("getppid"), from libdune's table; "syscall_N" otherwise.
std::string syscall_name(long nr);
std::optional<long> syscall_from_name(std::string_view name);

}  // namespace dunetrace
