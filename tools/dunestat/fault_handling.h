// fault_handling.h - the page faults the User fault and Appel rows cause on purpose.
//
// Each mode protects and unprotects pages, and catches the faults, the way a
// program of that mode would: natively Linux mprotect and a SIGSEGV handler; in
// Dune mode dune_vm_mprotect on pgroot and a Dune page-fault handler (no host
// mprotect, no signal), as the original Dune's bench_dune did. Both handlers
// hand the fault to the same decision, handle_probe_fault.
#pragma once

#include <cstddef>
#include <cstdint>

#include "worker_report.h"

extern "C" void dunestat_store_byte(volatile char* p);

namespace dunestat {

enum class FaultDuty {
  kNone,           // no fault is expected: any is a bug, and ends the worker
  kSkipStore,      // resume past dunestat_store_byte's store; the page stays read-only
  kUnprotectPage,  // make the faulting page writable again and retry the store
};

// Which faults the row under way expects: inside [start, start + bytes).
void expect_faults(FaultDuty duty, void* start, size_t bytes);
// Faults handled since the process started.
uint64_t faults_handled();

// Installs the handler for `mode`. 0 or -errno.
int install_fault_handler(Mode mode);

enum class Access { kReadOnly, kReadWrite };

// Sets the access of the pages [start, start + bytes) the way `mode` does it
// (above). 0 or -errno; protection_call(mode) names the call for a message.
int set_access(Mode mode, void* start, size_t bytes, Access access);
const char* protection_call(Mode mode);

}  // namespace dunestat
