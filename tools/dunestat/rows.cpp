#include "rows.h"

#include <array>

namespace dunestat {
namespace {

constexpr std::array<RowInfo, kRowCount> kRows{{
    {RowId::kTsc, "tsc", "TSC overhead", "cycles", 1,
     "two back-to-back rdtscp reads; its median is subtracted from every other figure of the same "
     "mode (this row itself is shown as read)"},
    {RowId::kSyscall, "syscall", "System call", "cycles", 1,
     "syscall(SYS_getppid); in Dune mode it is forwarded to the host, and its median is also "
     "divided by the VM exit floor's, measured in the same worker in alternate batches"},
    {RowId::kKernelFault, "kernel_fault", "Kernel fault", "cycles", 1,
     "the first write to a page of a fresh private anonymous mapping (512 pages per mapping, "
     "MADV_NOHUGEPAGE; mapping and unmapping are not timed)"},
    {RowId::kUserFault, "user_fault", "User fault", "cycles", 1,
     "a write to a present page the program made read-only, caught by the program's handler, which "
     "moves the saved rip past the store (the page stays read-only); timed from before the store to "
     "after the resumption. Natively: mprotect(PROT_READ) and a SIGSEGV handler. In Dune mode: "
     "dune_vm_mprotect(pgroot, PERM_R) and a Dune page-fault handler (dune_register_pgflt_handler)"},
    {RowId::kAppel1, "appel1", "PROT1,TRAP,UNPROT", "cycles/pass", kAppelPages,
     "Appel & Li's appel1: for each of 100 pages in turn, protect it read-only, write to it, and the "
     "fault handler unprotects it and lets the write retry. Natively: mprotect and a SIGSEGV handler "
     "that calls mprotect. In Dune mode: dune_vm_mprotect on pgroot and a Dune page-fault handler "
     "that calls dune_vm_mprotect (the program makes no host mprotect call and gets no signal), as "
     "the original Dune's bench_dune"},
    {RowId::kAppel2, "appel2", "PROTN,TRAP,UNPROT", "cycles/pass", kAppelPages,
     "Appel & Li's appel2: protect all 100 pages read-only in one call, then write to each; the fault "
     "handler unprotects the faulting page and lets the write retry. The calls and handlers of each "
     "mode are those of appel1"},
    {RowId::kExitFloor, "exit_floor", "VM exit floor", "cycles", 1,
     "dune_bench_exit_floor: round trips of a minimal VM of its own (ring-3 syscall, stub out, "
     "host, re-entry), the least a forwarded syscall can cost on this host. It must run outside Dune "
     "mode: the native worker runs it itself, the Dune worker through a native helper process it "
     "forks before it enters; both take it in batches of 250 alternating with System call's, so "
     "that their ratio compares the same moments, and the two columns should agree"},
    {RowId::kThread, "thread", "Thread create+join", "cycles", 1,
     "pthread_create of a thread that returns at once, then pthread_join"},
    {RowId::kFork, "fork", "Fork+wait", "cycles", 1,
     "fork of a child that calls _exit(0) at once, then waitpid (in Dune mode the child builds a "
     "VM of its own)"},
    {RowId::kSignal, "signal", "Signal delivery", "cycles", 1,
     "kill(getpid(), SIGUSR1) with a handler that sets a flag; timed until the handler has run"},
}};

}  // namespace

std::span<const RowInfo> all_rows() { return kRows; }

const RowInfo& row_info(RowId id) { return kRows[row_index(id)]; }

std::optional<RowId> find_row(std::string_view key) {
  for (const RowInfo& r : kRows)
    if (key == r.key) return r.id;
  return std::nullopt;
}

RowSet rows_to_measure(RowSet shown) {
  RowSet m = shown;
  m.set(row_index(RowId::kTsc));
  if (shown.test(row_index(RowId::kSyscall))) m.set(row_index(RowId::kExitFloor));
  return m;
}

}  // namespace dunestat
