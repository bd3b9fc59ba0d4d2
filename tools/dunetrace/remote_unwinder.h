// remote_unwinder.h - backtraces of a stopped guest thread, unwound from outside its process.
//
// libunwind's remote interface, started from the guest registers of the event
// (struct dune_tf), with accessors that read the process's memory through
// RemoteMemory (process_vm_readv) and find unwind tables in the module files
// (.eh_frame_hdr): however wrong rsp or the stack are, a read fails and the
// backtrace ends there.
#pragma once

#include <dune/dune.h>
#include <libunwind.h>

#include <cstdint>
#include <vector>

namespace dunetrace {

class ElfCache;
class ProcessMaps;

struct UnwoundFrame {
  uint64_t ip = 0;
  bool exact = false;  // the event's rip or code a signal interrupted; else a return address
};

class RemoteUnwinder {
 public:
  RemoteUnwinder(ProcessMaps& maps, ElfCache& elves);
  ~RemoteUnwinder();
  RemoteUnwinder(const RemoteUnwinder&) = delete;
  RemoteUnwinder& operator=(const RemoteUnwinder&) = delete;

  // At most depth frames of thread tid of pid, stopped with registers regs;
  // its memory is read through tid (through pid it is gone once the first
  // thread has exited). event: the number of the event being handled (see
  // ProcessMaps::find).
  std::vector<UnwoundFrame> unwind(int pid, int tid, const dune_tf& regs, int depth, uint64_t event);

 private:
  unw_addr_space_t as_ = nullptr;
  ProcessMaps& maps_;
  ElfCache& elves_;
};

}  // namespace dunetrace
