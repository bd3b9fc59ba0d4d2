#include "xlat.h"

#include <fmt/format.h>

#include <csignal>
#include <cstring>

namespace dunetrace::decode {

std::string xlat(uint64_t v, const Named* table, size_t n, const char* unknown_prefix, bool hex) {
  for (size_t i = 0; i < n; ++i)
    if (table[i].value == v) return table[i].name;
  std::string num = hex ? c_hex(v) : std::to_string(static_cast<int64_t>(v));
  if (unknown_prefix) num += fmt::format(" /* {}??? */", unknown_prefix);
  return num;
}

std::string flags(uint64_t v, const Named* table, size_t n, const char* zero) {
  std::string out;
  if (v == 0) {
    for (size_t i = 0; i < n; ++i)
      if (table[i].value == 0) return table[i].name;
    return zero;
  }
  uint64_t left = v;
  for (size_t i = 0; i < n; ++i) {
    uint64_t bits = table[i].value;
    if (bits == 0 || (left & bits) != bits) continue;
    if (!out.empty()) out += '|';
    out += table[i].name;
    left &= ~bits;
  }
  if (left) {
    if (!out.empty()) out += '|';
    out += fmt::format("{:#x}", left);
  }
  return out;
}

std::string octal(uint64_t v) { return v ? fmt::format("0{:o}", v) : "000"; }

std::string c_hex(uint64_t v) { return v ? fmt::format("{:#x}", v) : "0"; }

std::string address(uint64_t v) { return v ? fmt::format("{:#x}", v) : "NULL"; }

namespace {

const char* const kSignalNames[] = {
    nullptr,   "SIGHUP",  "SIGINT",    "SIGQUIT", "SIGILL",    "SIGTRAP",   "SIGABRT",  "SIGBUS",
    "SIGFPE",  "SIGKILL", "SIGUSR1",   "SIGSEGV", "SIGUSR2",   "SIGPIPE",   "SIGALRM",  "SIGTERM",
    "SIGSTKFLT", "SIGCHLD", "SIGCONT", "SIGSTOP", "SIGTSTP",   "SIGTTIN",   "SIGTTOU",  "SIGURG",
    "SIGXCPU", "SIGXFSZ", "SIGVTALRM", "SIGPROF", "SIGWINCH",  "SIGIO",     "SIGPWR",   "SIGSYS",
};

}  // namespace

std::string signal_text(int signo) {
  if (signo > 0 && signo < 32) return kSignalNames[signo];
  if (signo == 32) return "SIGRTMIN";
  if (signo > 32 && signo <= 64) return fmt::format("SIGRT_{}", signo - 32);
  return std::to_string(signo);
}

std::string sigset_text(uint64_t set) {
  int count = __builtin_popcountll(set);
  bool invert = count > 32;
  uint64_t shown = invert ? ~set : set;
  std::string out = invert ? "~[" : "[";
  bool first = true;
  for (int s = 1; s <= 64; ++s) {
    if (!((shown >> (s - 1)) & 1)) continue;
    if (!first) out += ' ';
    first = false;
    out += signal_text(s).substr(3);
  }
  return out + "]";
}

}  // namespace dunetrace::decode
