#include "probes.h"

#include <dune/bench.h>
#include <fmt/format.h>
#include <pthread.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <vector>

#include "bench_util.h"
#include "fault_handling.h"

namespace dunestat {
namespace {

constexpr size_t kPage = 4096;
constexpr size_t kFreshPages = 512;    // Kernel fault: pages per mapping
// VM exit floor: round trips per minimal VM, and system calls between two of them.
constexpr size_t kFloorBatch = 250;

RowOutcome failed(std::string why) { return {std::nullopt, std::move(why), true}; }

std::string errno_text(const char* what, int err) { return fmt::format("{}: {}", what, std::strerror(err)); }

// An anonymous private mapping, unmapped when it goes.
class Region {
 public:
  explicit Region(size_t bytes, int prot) : bytes_(bytes) {
    void* p = mmap(nullptr, bytes, prot, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p != MAP_FAILED) start_ = static_cast<char*>(p);
    // Keep each page a page: a huge page would serve many first touches with one fault.
    if (start_) madvise(start_, bytes_, MADV_NOHUGEPAGE);
  }
  ~Region() {
    if (start_) munmap(start_, bytes_);
  }
  Region(const Region&) = delete;
  Region& operator=(const Region&) = delete;
  char* start() const { return start_; }
  char* page(size_t i) const { return start_ + i * kPage; }

 private:
  char* start_ = nullptr;
  size_t bytes_;
};

// Repeats `once` (cycles of one repetition, or nullopt after setting *error)
// within the budget.
template <typename Once>
RowOutcome repeat(const Budget& budget, Once&& once) {
  Sampler samples;
  Repetitions reps(budget);
  std::string error;
  while (reps.more(samples.count())) {
    std::optional<uint64_t> c = once(&error);
    if (!c) return failed(error);
    samples.add(*c);
  }
  return {samples.summary(), {}, false};
}

RowOutcome tsc_overhead(const Budget& b) {
  return repeat(b, [](std::string*) -> std::optional<uint64_t> {
    uint64_t a = bench_tsc();
    return bench_tsc() - a;
  });
}

uint64_t one_system_call() {
  uint64_t a = bench_tsc();
  syscall(SYS_getppid);
  return bench_tsc() - a;
}

RowOutcome system_call(const Budget& b) {
  return repeat(b, [](std::string*) -> std::optional<uint64_t> { return one_system_call(); });
}

RowOutcome kernel_fault(const Budget& b) {
  std::optional<Region> region;
  size_t next = kFreshPages;
  return repeat(b, [&](std::string* error) -> std::optional<uint64_t> {
    if (next == kFreshPages) {
      region.reset();
      region.emplace(kFreshPages * kPage, PROT_READ | PROT_WRITE);
      if (!region->start()) {
        *error = errno_text("mmap", errno);
        return std::nullopt;
      }
      next = 0;
    }
    volatile char* p = region->page(next++);
    uint64_t a = bench_tsc();
    *p = 1;
    return bench_tsc() - a;
  });
}

RowOutcome user_fault(Mode mode, const Budget& b) {
  Region page(kPage, PROT_READ | PROT_WRITE);
  if (!page.start()) return failed(errno_text("mmap", errno));
  *static_cast<volatile char*>(page.start()) = 0;  // present: the store below is a protection fault only
  if (int r = set_access(mode, page.start(), kPage, Access::kReadOnly); r != 0)
    return failed(errno_text(protection_call(mode), -r));
  expect_faults(FaultDuty::kSkipStore, page.start(), kPage);
  RowOutcome out = repeat(b, [&](std::string* error) -> std::optional<uint64_t> {
    uint64_t before = faults_handled();
    uint64_t a = bench_tsc();
    dunestat_store_byte(page.start());
    uint64_t c = bench_tsc() - a;
    if (faults_handled() != before + 1) {
      *error = "the store to a read-only page did not reach the fault handler";
      return std::nullopt;
    }
    return c;
  });
  expect_faults(FaultDuty::kNone, nullptr, 0);
  return out;
}

// appel1 (protect_all false): protect one page, trap, unprotect, page after
// page. appel2 (protect_all true): protect all pages at once, then trap and
// unprotect each. Protecting and unprotecting go through set_access.
RowOutcome appel(Mode mode, const Budget& b, bool protect_all) {
  Region pages(kAppelPages * kPage, PROT_READ | PROT_WRITE);
  if (!pages.start()) return failed(errno_text("mmap", errno));
  std::memset(pages.start(), 0, kAppelPages * kPage);  // populated: no kernel faults in the passes
  expect_faults(FaultDuty::kUnprotectPage, pages.start(), kAppelPages * kPage);
  RowOutcome out = repeat(b, [&](std::string* error) -> std::optional<uint64_t> {
    uint64_t before = faults_handled();
    int r = 0;
    uint64_t a = bench_tsc();
    if (protect_all) r = set_access(mode, pages.start(), kAppelPages * kPage, Access::kReadOnly);
    for (size_t i = 0; i < kAppelPages && r == 0; ++i) {
      if (!protect_all && (r = set_access(mode, pages.page(i), kPage, Access::kReadOnly)) != 0) break;
      *static_cast<volatile char*>(pages.page(i)) = 1;
    }
    uint64_t c = bench_tsc() - a;
    if (r != 0) {
      *error = errno_text(protection_call(mode), -r);
      return std::nullopt;
    }
    if (faults_handled() != before + kAppelPages) {
      *error = fmt::format("{} faults reached the handler in a pass over {} pages", faults_handled() - before,
                           kAppelPages);
      return std::nullopt;
    }
    return c;
  });
  expect_faults(FaultDuty::kNone, nullptr, 0);
  return out;
}

void* return_at_once(void* arg) { return arg; }

RowOutcome thread_create_join(const Budget& b) {
  return repeat(b, [](std::string* error) -> std::optional<uint64_t> {
    uint64_t a = bench_tsc();
    pthread_t t;
    int r = pthread_create(&t, nullptr, return_at_once, nullptr);
    if (r == 0) r = pthread_join(t, nullptr);
    uint64_t c = bench_tsc() - a;
    if (r != 0) {
      *error = errno_text("pthread_create/join", r);
      return std::nullopt;
    }
    return c;
  });
}

RowOutcome fork_wait(const Budget& b) {
  return repeat(b, [](std::string* error) -> std::optional<uint64_t> {
    int status = 0;
    uint64_t a = bench_tsc();
    pid_t child = fork();
    if (child == 0) _exit(0);
    pid_t waited = child > 0 ? waitpid(child, &status, 0) : -1;
    uint64_t c = bench_tsc() - a;
    if (child < 0 || waited != child) {
      *error = errno_text(child < 0 ? "fork" : "waitpid", errno);
      return std::nullopt;
    }
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
      *error = fmt::format("a forked child ended with wait status {:#x}", status);
      return std::nullopt;
    }
    return c;
  });
}

volatile sig_atomic_t g_signals_seen = 0;
void count_signal(int) { g_signals_seen = g_signals_seen + 1; }

RowOutcome signal_delivery(const Budget& b) {
  struct sigaction sa {}, old {};
  sa.sa_handler = count_signal;
  sigemptyset(&sa.sa_mask);
  if (sigaction(SIGUSR1, &sa, &old) != 0) return failed(errno_text("sigaction", errno));
  pid_t self = getpid();  // once: in Dune mode each getpid is a VM exit
  RowOutcome out = repeat(b, [self](std::string* error) -> std::optional<uint64_t> {
    sig_atomic_t before = g_signals_seen;
    uint64_t a = bench_tsc();
    int r = kill(self, SIGUSR1);
    // A signal a thread sends itself is delivered before kill returns; the
    // bounded wait only guards against one that is not.
    for (long spins = 0; r == 0 && g_signals_seen == before && spins < 100000000; ++spins) {
    }
    uint64_t c = bench_tsc() - a;
    if (r != 0 || g_signals_seen == before) {
      *error = r != 0 ? errno_text("kill", errno) : "SIGUSR1 sent to self never reached its handler";
      return std::nullopt;
    }
    return c;
  });
  sigaction(SIGUSR1, &old, nullptr);
  return out;
}

}  // namespace

RowOutcome measure_row(RowId id, Mode mode, const Budget& budget) {
  switch (id) {
    case RowId::kTsc: return tsc_overhead(budget);
    case RowId::kSyscall: return system_call(budget);
    case RowId::kKernelFault: return kernel_fault(budget);
    case RowId::kUserFault: return user_fault(mode, budget);
    case RowId::kAppel1: return appel(mode, budget, false);
    case RowId::kAppel2: return appel(mode, budget, true);
    case RowId::kExitFloor: return failed("the VM exit floor is measured through measure_floor");
    case RowId::kThread: return thread_create_join(budget);
    case RowId::kFork: return fork_wait(budget);
    case RowId::kSignal: return signal_delivery(budget);
  }
  return failed("unknown row");
}

RowOutcome measure_floor(const Budget& budget, FloorSource& floor) {
  return measure_floor_and_syscall(budget, floor, false).first;
}

std::pair<RowOutcome, RowOutcome> measure_floor_and_syscall(const Budget& budget, FloorSource& floor,
                                                            bool with_syscall) {
  std::vector<uint64_t> batch(kFloorBatch);
  Sampler floor_samples, syscall_samples;
  std::optional<RowOutcome> floor_missing;
  // Two rows' worth of time when both are measured.
  Repetitions reps(Budget{budget.iterations, with_syscall ? 2 * budget.seconds : budget.seconds});
  auto done = [&] { return with_syscall ? syscall_samples.count() : floor_samples.count(); };
  while (reps.more(done())) {
    size_t n = static_cast<size_t>(std::min<uint64_t>(kFloorBatch, reps.left(done())));
    if (!floor_missing) {
      std::string said;
      int r = floor.measure(batch.data(), n, &said);
      if (r == 0) {
        for (size_t i = 0; i < n; ++i) floor_samples.add(batch[i]);
      } else {
        // Without a usable /dev/kvm there is no floor: missing, not failed.
        bool no_kvm = r == -ENOENT || r == -EACCES || r == -EPERM || r == -ENODEV || r == -ENXIO;
        floor_missing = RowOutcome{std::nullopt, said.empty() ? errno_text("dune_bench_exit_floor", -r) : said,
                                   !no_kvm};
        if (!with_syscall) break;
      }
    }
    if (with_syscall)
      for (size_t i = 0; i < n; ++i) syscall_samples.add(one_system_call());
  }
  RowOutcome f = floor_missing ? *floor_missing : RowOutcome{floor_samples.summary(), {}, false};
  return {f, RowOutcome{syscall_samples.summary(), {}, false}};
}

}  // namespace dunestat
