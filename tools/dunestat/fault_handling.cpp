#include "fault_handling.h"

#include <dune/dune.h>
#include <signal.h>
#include <sys/mman.h>
#include <ucontext.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstring>

extern "C" char dunestat_store_insn[], dunestat_store_resume[];

namespace dunestat {
namespace {

constexpr uintptr_t kPage = 4096;

std::atomic<FaultDuty> g_duty{FaultDuty::kNone};
std::atomic<uintptr_t> g_start{0}, g_end{0};
std::atomic<uint64_t> g_handled{0};

void say(const char* text) { (void)!write(2, text, std::strlen(text)); }

// The one decision for both handlers: true if the fault at addr was expected
// and has been dealt with (by moving *rip or unprotecting the page).
bool handle_probe_fault(Mode mode, uintptr_t addr, uint64_t* rip) {
  if (addr < g_start.load(std::memory_order_relaxed) || addr >= g_end.load(std::memory_order_relaxed))
    return false;
  switch (g_duty.load(std::memory_order_relaxed)) {
    case FaultDuty::kSkipStore:
      if (*rip != reinterpret_cast<uintptr_t>(dunestat_store_insn)) return false;
      *rip = reinterpret_cast<uintptr_t>(dunestat_store_resume);
      break;
    case FaultDuty::kUnprotectPage:
      if (set_access(mode, reinterpret_cast<void*>(addr & ~(kPage - 1)), kPage, Access::kReadWrite) != 0) {
        // The worker dies of this fault: say why first (write(2) only, safe in a handler).
        say("dunestat: the fault handler's ");
        say(protection_call(mode));
        say(" failed\n");
        return false;
      }
      break;
    case FaultDuty::kNone:
      return false;
  }
  g_handled.fetch_add(1, std::memory_order_relaxed);
  return true;
}

void on_sigsegv(int, siginfo_t* si, void* ctx) {
  auto* uc = static_cast<ucontext_t*>(ctx);
  uint64_t rip = static_cast<uint64_t>(uc->uc_mcontext.gregs[REG_RIP]);
  if (handle_probe_fault(Mode::kNative, reinterpret_cast<uintptr_t>(si->si_addr), &rip)) {
    uc->uc_mcontext.gregs[REG_RIP] = static_cast<greg_t>(rip);
    return;
  }
  // Not ours: die of it as if there were no handler (the parent reports the signal).
  signal(SIGSEGV, SIG_DFL);
}

void on_dune_page_fault(uintptr_t addr, uint64_t, struct dune_tf* tf) {
  uint64_t rip = tf->rip;
  if (handle_probe_fault(Mode::kDune, addr, &rip)) {
    tf->rip = rip;
    return;
  }
  say("dunestat: a page fault in Dune mode that no row expected, or could not resolve\n");
  _exit(3);
}

}  // namespace

void expect_faults(FaultDuty duty, void* start, size_t bytes) {
  g_duty.store(FaultDuty::kNone, std::memory_order_relaxed);
  g_start.store(reinterpret_cast<uintptr_t>(start), std::memory_order_relaxed);
  g_end.store(reinterpret_cast<uintptr_t>(start) + bytes, std::memory_order_relaxed);
  g_duty.store(duty, std::memory_order_release);
}

uint64_t faults_handled() { return g_handled.load(std::memory_order_relaxed); }

int install_fault_handler(Mode mode) {
  if (mode == Mode::kDune) return dune_register_pgflt_handler(on_dune_page_fault);
  struct sigaction sa {};
  sa.sa_sigaction = on_sigsegv;
  sa.sa_flags = SA_SIGINFO;
  sigemptyset(&sa.sa_mask);
  return sigaction(SIGSEGV, &sa, nullptr) == 0 ? 0 : -errno;
}

int set_access(Mode mode, void* start, size_t bytes, Access access) {
  bool writable = access == Access::kReadWrite;
  if (mode == Mode::kDune) return dune_vm_mprotect(pgroot, start, bytes, writable ? PERM_R | PERM_W : PERM_R);
  return mprotect(start, bytes, writable ? PROT_READ | PROT_WRITE : PROT_READ) == 0 ? 0 : -errno;
}

const char* protection_call(Mode mode) { return mode == Mode::kDune ? "dune_vm_mprotect" : "mprotect"; }

}  // namespace dunestat
