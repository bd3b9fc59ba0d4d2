#include "runtime/stats_report.h"

#include <dune/trace.h>
#include <fcntl.h>
#include <fmt/format.h>

#include <cstdlib>
#include <cstring>
#include <ctime>
#include <new>

#include <sys/mman.h>
#include "base/log.h"
#include "base/raw_syscall.h"
#include "runtime/runtime.h"
#include "syscalls/syscall_table.h"

namespace dune {

namespace {

char g_path[4096];

const char* exit_kind_name(int k) {
  switch (k) {
    case DUNE_EXIT_SYSCALL: return "syscall";
    case DUNE_EXIT_EXCEPTION: return "exception";
    case DUNE_EXIT_TRAP_RETURN: return "trap_return";
    case DUNE_EXIT_HYPERCALL: return "hypercall";
    case DUNE_EXIT_MMIO: return "mmio";
    case DUNE_EXIT_MEMORY_FAULT: return "memory_fault";
    case DUNE_EXIT_INTERRUPTED: return "interrupted";
    case DUNE_EXIT_OTHER: return "other";
    default: return nullptr;
  }
}

const char* vector_name(int v) {
  switch (v) {
    case 0: return "divide_error";
    case 1: return "debug";
    case 3: return "breakpoint";
    case 6: return "invalid_opcode";
    case 13: return "general_protection";
    case 14: return "page_fault";
    case 16: return "x87_fp";
    case 17: return "alignment_check";
    case 19: return "simd_fp";
    default: return nullptr;
  }
}

// Appends to a fixed buffer; what does not fit is cut (the JSON stays short).
struct Out {
  char* buf;
  size_t cap;
  size_t len = 0;
  template <typename... A>
  void put(fmt::format_string<A...> f, A&&... a) {
    if (len >= cap) return;
    auto r = fmt::format_to_n(buf + len, cap - len, f, std::forward<A>(a)...);
    len += r.size < cap - len ? r.size : cap - len;
  }
  void json_string(const char* s) {
    put("\"");
    for (; *s; ++s) {
      unsigned char c = static_cast<unsigned char>(*s);
      if (c == '"' || c == '\\')
        put("\\{}", static_cast<char>(c));
      else if (c < 0x20)
        put("\\u{:04x}", c);
      else
        put("{}", static_cast<char>(c));
    }
    put("\"");
  }
  // The non-zero counts[0..n) as "name":count members, by name(i), or
  // "<fallback>_<i>" where it has none (no fallback: left out).
  template <typename Name>
  void named_counts(const uint64_t* counts, long n, Name name, const char* fallback) {
    bool first = true;
    for (long i = 0; i < n; ++i) {
      if (!counts[i]) continue;
      const char* label = name(i);
      if (label)
        put("{}\"{}\":{}", first ? "" : ",", label, counts[i]);
      else if (fallback)
        put("{}\"{}_{}\":{}", first ? "" : ",", fallback, i, counts[i]);
      else
        continue;
      first = false;
    }
  }
};

}  // namespace

void configure_stats_report() {
  const char* v = std::getenv("DUNE_STATS");
  if (!v || !*v) return;
  if (std::strlen(v) >= sizeof g_path - 16) {
    log::warn("DUNE_STATS is longer than {} characters; no statistics will be written", sizeof g_path - 16);
    return;
  }
  std::strcpy(g_path, v);
}

void write_stats_report(Runtime& rt, const char* end, int status) {
  if (!g_path[0]) return;
  long pid = sys::getpid();
  char path[4200];
  {
    // "%p" -> the pid.
    size_t o = 0;
    for (const char* p = g_path; *p && o < sizeof path - 24; ++p) {
      if (p[0] == '%' && p[1] == 'p') {
        auto r = fmt::format_to_n(path + o, sizeof path - 1 - o, "{}", pid);
        o += r.size;
        ++p;
      } else {
        path[o++] = *p;
      }
    }
    path[o] = 0;
  }
  // Straight from mmap: this may run in a signal handler (a fatal signal's
  // report), interrupting code that holds the allocator's lock.
  constexpr size_t kCap = 128 * 1024;
  constexpr size_t kStatsBytes = (sizeof(ThreadStats) + 4095) & ~4095ul;
  long mem = sys::mmap(nullptr, kStatsBytes + kCap, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (sys::is_error(mem)) return;
  auto* s = new (reinterpret_cast<void*>(mem)) ThreadStats();
  rt.collect_stats(s, static_cast<int>(pid));
  Out out{reinterpret_cast<char*>(mem) + kStatsBytes, kCap - 2};

  char exe[1024];
  // thread-self: /proc/self/exe fails once the main thread has ended.
  long n = sys::syscall6(SYS_readlink, reinterpret_cast<long>("/proc/thread-self/exe"), reinterpret_cast<long>(exe),
                         sizeof exe - 1);
  exe[n > 0 ? n : 0] = 0;
  timespec ts{};
  sys::syscall6(SYS_clock_gettime, CLOCK_MONOTONIC, reinterpret_cast<long>(&ts));
  uint64_t now_ns = static_cast<uint64_t>(ts.tv_sec) * 1000000000ull + static_cast<uint64_t>(ts.tv_nsec);
  uint64_t now_tsc = __builtin_ia32_rdtsc();
  double wall = static_cast<double>(now_ns - rt.start_ns) / 1e9;
  double tsc_hz = wall > 0 ? static_cast<double>(now_tsc - rt.start_tsc) / wall : 0;

  out.put("{{\"pid\":{},\"ppid\":{},\"exe\":", pid, sys::syscall6(SYS_getppid));
  out.json_string(exe);
  out.put(",\"end\":\"{}\",\"status\":{},\"flavour\":\"{}\"", end, status, dune_flavour_name(rt.traits.flavour));
  out.put(",\"vm_exits\":{},\"exits\":{{", s->exits);
  out.named_counts(s->exits_by_kind, ThreadStats::kExitKinds, [](long k) { return exit_kind_name(static_cast<int>(k)); },
                   nullptr);
  out.put("}},\"syscalls\":{},\"syscalls_by_name\":{{", s->syscalls);
  out.named_counts(s->syscalls_by_nr, kMaxSyscall, [](long nr) { return syscall_name(nr); }, "syscall");
  out.put("}},\"faults\":{},\"faults_by_kind\":{{", s->faults());
  out.named_counts(s->faults_by_vector, 32, [](long v) { return vector_name(static_cast<int>(v)); }, "vector");
  out.put("}},\"host_faults\":{},\"signals_delivered\":{}", rt.counters.host_faults.load(), s->signals);
  out.put(",\"syscalls_backed_out\":{},\"syscalls_restarted\":{}", s->syscalls_backed_out,
          s->syscalls_restarted);
  out.put(",\"guest_cycles\":{},\"host_cycles\":{}", s->guest_cycles, s->host_cycles);
  if (tsc_hz > 0)
    out.put(",\"guest_seconds\":{:.6f},\"host_seconds\":{:.6f}", s->guest_cycles / tsc_hz, s->host_cycles / tsc_hz);
  out.put(",\"wall_seconds\":{:.6f}}}", wall);
  out.buf[out.len++] = '\n';

  long fd = sys::open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  if (fd >= 0) {
    sys::write_all(static_cast<int>(fd), out.buf, out.len);
    sys::close(static_cast<int>(fd));
  } else {
    log::warn("DUNE_STATS: cannot open {}: {}", path, log::errno_name(static_cast<int>(fd)));
  }
  sys::munmap(reinterpret_cast<void*>(mem), kStatsBytes + kCap);
}

bool stats_report_enabled() { return g_path[0] != 0; }

}  // namespace dune
