// fault_signal.h - the signal, si_code and si_addr Linux sends for a CPU exception.
#pragma once

#include <cstdint>

#include "signals/signal_delivery.h"

namespace dune {

// vector: the exception; rip: where it happened; cr2: the page-fault address;
// mapped: the host has a mapping there (SEGV_ACCERR, not SEGV_MAPERR);
// fp_exceptions: unmasked x87 (#MF) or SSE (#XM) exception bits, for SIGFPE's code.
FaultSignal fault_signal(int vector, uint64_t rip, uint64_t cr2, uint64_t err, bool mapped,
                         uint32_t fp_exceptions);

// FPE_FLTINV, FPE_FLTDIV, ... from the status bits not masked by the control word.
int fpe_code(uint32_t unmasked);

}  // namespace dune
