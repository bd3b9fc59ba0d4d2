#include "classic/sandbox.h"
#include "runtime/syscall_fastpath.h"

#include <sys/mman.h>
#include <sys/syscall.h>

#include <atomic>
#include <cstddef>

#include "base/host_arena.h"
#include "base/log.h"
#include "base/raw_syscall.h"
#include "runtime/guest_memory.h"
#include "runtime/guest_thread.h"
#include "runtime/runtime.h"
#include "runtime/trap_frame.h"
#include "runtime/trap_handlers.h"
#include "runtime/traps.h"

namespace dune {

namespace {

std::atomic<dune_syscall_cb> g_syscall{nullptr};
std::atomic<uint64_t> g_user_root{0};

constexpr size_t kHandlerStackBytes = 256 * 1024;
// Launcher handlers start this far below dune_jump_to_user's stack pointer.
constexpr uint64_t kLauncherGap = 256;

MemoryManager& mm_of(GuestThread& t) { return *t.rt().mm; }

dune_tf tf_of(const kvm_regs& r) {
  dune_tf tf{};
  tf.rax = r.rax; tf.rbx = r.rbx; tf.rcx = r.rcx; tf.rdx = r.rdx;
  tf.rsi = r.rsi; tf.rdi = r.rdi; tf.rbp = r.rbp; tf.rsp = r.rsp;
  tf.r8 = r.r8; tf.r9 = r.r9; tf.r10 = r.r10; tf.r11 = r.r11;
  tf.r12 = r.r12; tf.r13 = r.r13; tf.r14 = r.r14; tf.r15 = r.r15;
  tf.rip = r.rip;
  tf.rflags = r.rflags;
  return tf;
}

void free_launcher_xsave(GuestThread& t) {
  if (!t.sandbox.launcher_xsave) return;
  host_arena()->deallocate(t.sandbox.launcher_xsave, t.rt().xsave_size, 64);
  t.sandbox.launcher_xsave = nullptr;
}

// From the sandbox to a launcher handler: the launcher's table and FS base.
bool enter_launcher(GuestThread& t) {
  SandboxState& sb = t.sandbox;
  if (!t.set_cr3(mm_of(t).root_gpa())) return false;
  if (!sb.born) {
    auto fs = t.vcpu().get_msr(kvm::kMsrFsBase);
    if (!fs) return false;
    sb.sandbox_fs = fs.value();
    if (!t.vcpu().set_msr(kvm::kMsrFsBase, sb.launcher_fs)) return false;
  }
  sb.active = false;
  ++sb.depth;
  return true;
}

bool back_to_sandbox(GuestThread& t) {
  SandboxState& sb = t.sandbox;
  if (!sb.born && !t.vcpu().set_msr(kvm::kMsrFsBase, sb.sandbox_fs)) return false;
  if (!t.set_cr3(sb.root_gpa)) return false;
  sb.active = true;
  if (sb.depth) --sb.depth;
  return true;
}

// Where launcher handlers run: below dune_jump_to_user's frame, or on a stack
// the library maps for a thread the sandbox created (in the launcher's table
// only: a passing-through syscall is not running).
uint64_t handler_stack(GuestThread& t) {
  SandboxState& sb = t.sandbox;
  if (!sb.born) return sb.launcher_stack;
  if (!sb.stack_base) {
    long p = sys::syscall6(SYS_mmap, 0, kHandlerStackBytes, PROT_READ | PROT_WRITE,
                           MAP_PRIVATE | MAP_ANONYMOUS | MAP_STACK, -1, 0);
    if (sys::is_error(p)) return 0;
    Range r{static_cast<uint64_t>(p), static_cast<uint64_t>(p) + kHandlerStackBytes};
    MemoryManager& mm = mm_of(t);
    auto lk = mm.lock();
    if (!mm.set(r, RegionAttrs{PROT_READ | PROT_WRITE, RegionKind::kAnon})) {
      mm.remove(r);
      sys::munmap(reinterpret_cast<void*>(p), kHandlerStackBytes);
      return 0;
    }
    sb.stack_base = r.start;
    sb.stack_len = kHandlerStackBytes;
  }
  return sb.stack_base + sb.stack_len;
}

// The run ends: dune_jump_to_user returns ret, or a thread the sandbox made exits.
void end_run(GuestThread& t, long ret) {
  SandboxState& sb = t.sandbox;
  if (sb.born) t.exit_thread(static_cast<int>(ret));
  (void)t.set_cr3(mm_of(t).root_gpa());
  (void)t.vcpu().set_msr(kvm::kMsrFsBase, sb.launcher_fs);
  if (sb.launcher_xsave) (void)t.vcpu().set_xsave(sb.launcher_xsave);
  dune_tf tf = tf_of(sb.launcher);
  tf.rax = static_cast<uint64_t>(ret);
  free_launcher_xsave(t);
  sb = SandboxState{};
  t.resume(tf);
}

}  // namespace

dune_syscall_cb syscall_handler() { return g_syscall.load(std::memory_order_acquire); }

int set_syscall_handler(dune_syscall_cb cb) {
  if (!cb) {
    log::error("dune_register_syscall_handler: the handler is NULL");
    return -EINVAL;
  }
  g_syscall.store(cb, std::memory_order_release);
  return 0;
}

uint64_t user_root_hva() { return g_user_root.load(std::memory_order_acquire); }
void set_user_root_hva(uint64_t root) { g_user_root.store(root, std::memory_order_release); }

FollowSandbox::FollowSandbox(GuestThread& t) {
  MemoryManager& mm = mm_of(t);
  auto lk = mm.lock();
  MemoryManager::set_follower(mm.table_by_root_gpa(t.sandbox.root_gpa));
}

FollowSandbox::~FollowSandbox() { MemoryManager::set_follower(nullptr); }

long sandbox_jump(GuestThread& t, uint64_t tf_addr) {
  SandboxState& sb = t.sandbox;
  if (sb.in_run) {
    log::error("dune_jump_to_user: this thread already runs a sandbox");
    return -EBUSY;
  }
  dune_tf tf;
  if (!copy_from_guest(&tf, tf_addr, sizeof tf)) {
    log::error("dune_jump_to_user: cannot read the trap frame at {:#x}", tf_addr);
    return -EFAULT;
  }
  MemoryManager& mm = mm_of(t);
  uint64_t root_gpa = 0;
  {
    auto lk = mm.lock();
    uint64_t hva = user_root_hva();
    GuestPageTable* pt = hva ? mm.table_by_root(hva) : &mm.main_table();
    if (!pt) {
      log::error("dune_jump_to_user: the user root {:#x} was freed", hva);
      return -EINVAL;
    }
    root_gpa = pt->root_gpa();
  }
  auto fs = t.vcpu().get_msr(kvm::kMsrFsBase);
  if (!fs) return fs.error();
  size_t xs = t.rt().xsave_size;
  void* xsave = host_arena()->allocate(xs, 64);
  if (!t.vcpu().get_xsave(xsave, xs)) {
    host_arena()->deallocate(xsave, xs, 64);
    return -EIO;
  }
  sb = SandboxState{};
  sb.launcher = t.vcpu().regs();
  sb.launcher_xsave = xsave;
  sb.launcher_fs = fs.value();
  sb.launcher_stack = (sb.launcher.rsp - kLauncherGap) & ~15ull;
  sb.root_gpa = root_gpa;
  Status s = t.set_cr3(root_gpa);
  if (!s) {
    free_launcher_xsave(t);
    sb = SandboxState{};
    return s.error();
  }
  // Its syscalls belong to its handler, getpid too: none is answered in the kernel.
  block_syscall_fastpath(t.rt());
  sb.in_run = sb.active = true;
  t.resume(tf);
  return kResumed;
}

long sandbox_ret(GuestThread& t, long ret) {
  SandboxState& sb = t.sandbox;
  if (!sb.in_run || sb.active || sb.depth == 0) {
    log::error("dune_ret_from_user: not called from a handler of a sandbox");
    return -EINVAL;
  }
  end_run(t, ret);
  return kResumed;
}

long sandbox_passthrough(GuestThread& t, uint64_t tf_addr) {
  SandboxState& sb = t.sandbox;
  dune_tf tf;
  if (!copy_from_guest(&tf, tf_addr, sizeof tf)) return -EFAULT;
  if (!sb.in_run || sb.active || sb.depth == 0) {
    log::error("dune_passthrough_syscall: not called from a handler of a sandbox");
    return -EINVAL;
  }
  // The vCPU takes the sandbox's state at its syscall, so that what the
  // syscall reads from it (a new thread's or child's starting state, the FS
  // base) is the sandbox's; the handler's comes back afterwards.
  kvm_regs saved = t.vcpu().regs();
  kvm_regs& r = t.vcpu().regs();
  r.rax = tf.rax; r.rbx = tf.rbx; r.rdx = tf.rdx; r.rsi = tf.rsi; r.rdi = tf.rdi; r.rbp = tf.rbp;
  r.r8 = tf.r8; r.r9 = tf.r9; r.r10 = tf.rcx; r.r12 = tf.r12; r.r13 = tf.r13; r.r14 = tf.r14;
  r.r15 = tf.r15; r.rsp = tf.rsp; r.rip = tf.rip; r.rflags = tf.rflags;
  r.rcx = tf.rip;
  r.r11 = tf.rflags;
  if (!sb.born) (void)t.vcpu().set_msr(kvm::kMsrFsBase, sb.sandbox_fs);
  SyscallArgs s{static_cast<long>(tf.rax), {tf.rdi, tf.rsi, tf.rdx, tf.rcx, tf.r8, tf.r9}};
  long ret;
  {
    FollowSandbox follow(t);
    ret = run_syscall(t, s);
  }
  // A forked child starts in the sandbox, its state already set.
  if (ret == kResumed) return kResumed;
  if (!sb.born) {
    auto fs = t.vcpu().get_msr(kvm::kMsrFsBase);
    if (fs) sb.sandbox_fs = fs.value();
    (void)t.vcpu().set_msr(kvm::kMsrFsBase, sb.launcher_fs);
  }
  t.vcpu().regs() = saved;
  t.vcpu().mark_regs_dirty();
  // A signal came first: the handler's call is made again after it (on_io),
  // so the sandbox's syscall restarts as the kernel would restart it.
  if (ret == kRestartSyscall) return kRestartSyscall;
  uint64_t v = static_cast<uint64_t>(ret);
  if (!copy_to_guest(tf_addr + offsetof(dune_tf, rax), &v, sizeof v)) return -EFAULT;
  return 0;
}

bool sandbox_syscall(GuestThread& t, const SyscallArgs& s) {
  dune_syscall_cb cb = syscall_handler();
  if (!cb) return false;
  dune_tf tf;
  t.user_state(&tf);
  tf.rax = static_cast<uint64_t>(s.nr);
  tf.rcx = s.a[3];  // the fourth argument, where the original Dune put it
  tf.err = 0;
  tf.vector = 0;
  uint64_t stack = handler_stack(t);
  if (stack && enter_launcher(t) &&
      call_trap_handler(t, tf, reinterpret_cast<uint64_t>(cb), 0, 0, false, stack, kTrapSandboxSyscall))
    return true;
  log::error("sandbox: cannot run the launcher's syscall handler; the run ends with EFAULT");
  end_run(t, -EFAULT);
  return true;
}

void sandbox_exception(GuestThread& t) {
  const auto& ex = t.exception();
  uint64_t addr = 0;
  if (ex.vector == 14) {
    kvm_sregs s{};
    (void)t.vcpu().get_sregs(&s);
    addr = s.cr2;
  }
  dune_tf tf;
  t.user_state(&tf);
  dune_pgflt_cb pf = ex.vector == 14 ? pgflt_handler() : nullptr;
  dune_intr_cb intr = pf ? nullptr : intr_handler(ex.vector);
  if (pf || intr) {
    uint64_t stack = handler_stack(t);
    if (stack && enter_launcher(t)) {
      bool ok = pf ? call_trap_handler(t, tf, reinterpret_cast<uint64_t>(pf), addr, ex.error, true, stack,
                                       kTrapSandboxFault)
                   : call_trap_handler(t, tf, reinterpret_cast<uint64_t>(intr), 0, 0, false, stack,
                                       kTrapSandboxFault);
      if (ok) return;
    }
  }
  log::info("sandbox: vector {} at rip={:#x} (address {:#x}), no launcher handler: the run ends with EFAULT",
            ex.vector, uint64_t{tf.rip}, addr);
  end_run(t, -EFAULT);
}

void sandbox_trap_return(GuestThread& t, const TrapFrame& frame) {
  dune_tf tf = frame.tf;
  if (frame.kind == kTrapSandboxSyscall) {
    // As the original's sysret path: r10 from the rcx slot, rcx and r11 as sysret leaves them.
    tf.r10 = frame.tf.rcx;
    tf.rcx = frame.tf.rip;
    tf.r11 = frame.tf.rflags;
  }
  if (!back_to_sandbox(t)) {
    log::error("sandbox: cannot switch back to the sandbox's page table; the run ends with EFAULT");
    end_run(t, -EFAULT);
    return;
  }
  t.resume(tf);
}

void sandbox_refuse(GuestThread& t, const char* what) {
  log::error("sandbox: code at rip={:#x} used {}, which only its launcher may; the run ends with EPERM",
             uint64_t{t.vcpu().regs().rip}, what);
  end_run(t, -EPERM);
}

void release_sandbox_stack(GuestThread& t) {
  SandboxState& sb = t.sandbox;
  free_launcher_xsave(t);
  if (!sb.stack_base) return;
  MemoryManager& mm = mm_of(t);
  auto lk = mm.lock();
  Range r{sb.stack_base, sb.stack_base + sb.stack_len};
  mm.lower(r, PROT_NONE);
  if (sys::munmap(reinterpret_cast<void*>(r.start), r.size()) == 0) mm.remove(r);
  sb.stack_base = sb.stack_len = 0;
}

}  // namespace dune
