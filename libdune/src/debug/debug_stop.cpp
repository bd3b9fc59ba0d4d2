#include "debug/debug_stop.h"

#include <linux/futex.h>
#include <sys/eventfd.h>

#include <atomic>
#include <csignal>
#include <cstring>
#include <mutex>

#include "base/host_arena.h"
#include "base/raw_syscall.h"
#include "base/spin_lock.h"
#include "base/unique_fd.h"
#include "debug/gdb_session.h"
#include "kvm/vcpu.h"
#include "runtime/guest_thread.h"
#include "runtime/runtime.h"
#include "runtime/thread_registry.h"

namespace dune::debug {

namespace {

constexpr uint64_t kFlagTf = 1ull << 8;
constexpr int kMaxActions = 16;
// How often a thread that has not parked is kicked again (a kick that came
// just before it entered a blocking syscall), and when the wait gives up.
constexpr uint64_t kKickAgainMs = 100;
constexpr uint64_t kGiveUpMs = 5000;

std::atomic<bool> g_attached{false};
std::atomic<bool> g_stop{false};
std::atomic<uint32_t> g_generation{0};  // futex word: moves at every resume
std::atomic<uint64_t> g_pass{0};
SpinLock g_lock;
StopReport g_event;  // the first event of this stop (under g_lock)
int g_request_signo = 0;
ResumeAction g_actions[kMaxActions];
int g_action_count = 0;
int g_event_fd = -1;

uint64_t now_ms() {
  timespec ts{};
  sys::syscall6(SYS_clock_gettime, CLOCK_MONOTONIC, reinterpret_cast<long>(&ts));
  return static_cast<uint64_t>(ts.tv_sec) * 1000 + static_cast<uint64_t>(ts.tv_nsec) / 1000000;
}

void wake_server() {
  uint64_t one = 1;
  if (g_event_fd >= 0) sys::write(own_fds::current(g_event_fd), &one, sizeof one);
}

bool ours(GuestThread& t) { return t.tgid() == t.rt().pid; }

// The thread's ring-3 state into its record, for the server to read.
void capture(GuestThread& t) {
  gdb::RegisterState& r = t.debug().regs;
  r = gdb::RegisterState{};
  t.user_state(&r.tf);
  if (auto fs = t.vcpu().get_msr(kvm::kMsrFsBase)) r.fs_base = fs.value();
  if (auto gs = t.vcpu().get_msr(kvm::kMsrGsBase)) r.gs_base = gs.value();
  size_t size = t.rt().xsave_size;
  auto* image = static_cast<uint8_t*>(host_arena()->allocate(size, 64));
  if (t.vcpu().get_xsave(image, size)) {
    r.xsave = image;
    r.xsave_size = size;
  } else {
    host_arena()->deallocate(image, size, 64);
  }
}

// The action gdb's resume gave tid: its own, else the default; false if
// none (vCont;s:OTHER steps one thread while this one stays stopped).
bool action_for(int tid, ResumeAction* out) {
  std::lock_guard<SpinLock> g(g_lock);
  for (int i = 0; i < g_action_count; ++i)
    if (g_actions[i].tid == tid) return *out = g_actions[i], true;
  for (int i = 0; i < g_action_count; ++i)
    if (g_actions[i].tid == -1) return *out = g_actions[i], true;
  return false;
}

// Parks t until gdb resumes; applies what gdb changed. Returns the signal gdb
// resumed it with.
int park(GuestThread& t) {
  ThreadDebug& d = t.debug();
  capture(t);
  uint32_t gen = g_generation.load(std::memory_order_seq_cst);
  d.parked.store(1, std::memory_order_seq_cst);
  int signo = 0;
  if (g_stop.load(std::memory_order_seq_cst)) {
    ResumeAction a;
    for (;;) {
      while (g_generation.load(std::memory_order_acquire) == gen)
        sys::syscall6(SYS_futex, reinterpret_cast<long>(&g_generation), FUTEX_WAIT_PRIVATE, gen, 0);
      gen = g_generation.load(std::memory_order_acquire);
      if (action_for(t.tid(), &a)) break;
    }
    signo = a.signo;
    gdb::RegisterState& r = d.regs;
    bool step = a.action == Action::kStep;
    bool had_tf = r.tf.rflags & kFlagTf;
    // A step ends in a #DB whose frame still has TF: it goes once the step is over.
    if (step) r.tf.rflags |= kFlagTf;
    else if (d.stepping) r.tf.rflags &= ~kFlagTf;
    if (r.regs_dirty || step != had_tf || d.stepping) t.resume(r.tf);
    d.stepping = step;
    if (r.fpu_dirty && r.xsave) (void)t.vcpu().set_xsave(r.xsave);
  }
  if (d.regs.xsave) host_arena()->deallocate(d.regs.xsave, d.regs.xsave_size, 64);
  d.regs.xsave = nullptr;
  d.parked.store(0, std::memory_order_release);
  return signo;
}

struct WaitState {
  int unparked = 0;
  uint64_t now = 0;
  int kick_signo = 0;
  int first_tid = 0;
};

}  // namespace

bool attached() { return g_attached.load(std::memory_order_relaxed); }
bool stop_requested() { return g_stop.load(std::memory_order_relaxed); }

void set_attached(bool on) { g_attached.store(on, std::memory_order_seq_cst); }

void clear_after_fork() {
  g_attached.store(false);
  g_stop.store(false);
  g_pass.store(0);
  g_event = StopReport{};
  g_action_count = 0;
}

int event_fd() {
  if (g_event_fd < 0) {
    long fd = sys::syscall6(SYS_eventfd2, 0, EFD_CLOEXEC | EFD_NONBLOCK);
    if (fd >= 0) g_event_fd = UniqueFd::adopt(static_cast<int>(fd)).release();
  }
  return g_event_fd < 0 ? g_event_fd : own_fds::current(g_event_fd);
}

void park_for_request(GuestThread& t) {
  if (!ours(t)) return;
  int signo = park(t);
  // A signal gdb gave a thread it did not stop for: the kernel delivers it.
  if (signo) sys::syscall6(SYS_tgkill, sys::getpid(), t.tid(), signo);
}

Outcome stop_for_event(GuestThread& t, Why why, int signo, char watch, uint64_t watch_addr,
                       const siginfo_t* info) {
  Outcome o;
  if (!ours(t)) return o;
  {
    std::lock_guard<SpinLock> g(g_lock);
    // The first event or request of a stop is the one reported; a later one
    // comes again (a fault, a breakpoint) or waits (a signal, requeued).
    if (!g_stop.load(std::memory_order_relaxed)) {
      g_event = StopReport{why, signo, t.tid(), watch, watch_addr, {}};
      if (info) g_event.info = *info;
      o.reported = true;
      g_stop.store(true, std::memory_order_seq_cst);
    }
  }
  if (o.reported) wake_server();
  o.signo = park(t);
  return o;
}

bool passes_silently(int signo) {
  return signo >= 1 && signo <= 64 && (g_pass.load(std::memory_order_relaxed) & (1ull << (signo - 1)));
}

void set_pass_signals(uint64_t mask) { g_pass.store(mask, std::memory_order_relaxed); }

void request_stop(int signo) {
  std::lock_guard<SpinLock> g(g_lock);
  if (g_stop.load(std::memory_order_relaxed)) return;
  g_event = StopReport{};
  g_request_signo = signo;
  g_stop.store(true, std::memory_order_seq_cst);
}

bool wait_all_parked(StopReport* out) {
  uint64_t drained;
  if (g_event_fd >= 0) sys::read(own_fds::current(g_event_fd), &drained, sizeof drained);
  uint64_t start = now_ms();
  WaitState w;
  w.kick_signo = kick_signal();
  for (;;) {
    w.unparked = 0;
    w.first_tid = 0;
    w.now = now_ms();
    for_each_registered(
        [](GuestThread* t, void* p) {
          auto* w = static_cast<WaitState*>(p);
          if (!ours(*t)) return;
          ThreadDebug& d = t->debug();
          if (d.parked.load(std::memory_order_acquire)) {
            if (!w->first_tid) w->first_tid = t->tid();
            return;
          }
          ++w->unparked;
          if (w->now - d.kicked_ms >= kKickAgainMs) {
            d.kicked_ms = w->now;
            sys::syscall6(SYS_tgkill, t->rt().pid, t->tid(), w->kick_signo);
          }
        },
        &w);
    // At least one: gdb may connect before the first thread has entered.
    if ((w.unparked == 0 && w.first_tid) || w.now - start > kGiveUpMs) break;
    timespec pause{0, 2 * 1000 * 1000};
    sys::syscall6(SYS_nanosleep, reinterpret_cast<long>(&pause), 0);
  }
  std::lock_guard<SpinLock> g(g_lock);
  *out = g_event;
  if (out->why == Why::kNone) *out = StopReport{Why::kRequest, g_request_signo, w.first_tid};
  return w.unparked == 0 && w.first_tid;
}

void resume_all(const ResumeAction* actions, int n) {
  {
    std::lock_guard<SpinLock> g(g_lock);
    g_action_count = n < kMaxActions ? n : kMaxActions;
    for (int i = 0; i < g_action_count; ++i) g_actions[i] = actions[i];
    g_event = StopReport{};
    g_stop.store(false, std::memory_order_seq_cst);
  }
  g_generation.fetch_add(1, std::memory_order_seq_cst);
  sys::syscall6(SYS_futex, reinterpret_cast<long>(&g_generation), FUTEX_WAKE_PRIVATE, 0x7fffffff);
}

void for_each_parked(void (*fn)(GuestThread&, void*), void* ctx) {
  struct Ctx {
    void (*fn)(GuestThread&, void*);
    void* ctx;
  } c{fn, ctx};
  for_each_registered(
      [](GuestThread* t, void* p) {
        auto* c = static_cast<Ctx*>(p);
        if (ours(*t) && t->debug().parked.load(std::memory_order_acquire)) c->fn(*t, c->ctx);
      },
      &c);
}

GuestThread* parked_thread(int tid) {
  struct Ctx {
    int tid;
    GuestThread* found;
  } c{tid, nullptr};
  for_each_parked(
      [](GuestThread& t, void* p) {
        auto* c = static_cast<Ctx*>(p);
        if (t.tid() == c->tid || (c->tid <= 0 && !c->found)) c->found = &t;
      },
      &c);
  return c.found;
}

void report_exit(int status) { session_ended('W', status & 0xff); }
void report_death(int signo) { session_ended('X', signo); }

}  // namespace dune::debug
