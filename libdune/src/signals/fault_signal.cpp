#include "signals/fault_signal.h"

#include <signal.h>

namespace dune {

int fpe_code(uint32_t e) {
  // The precedence of arch/x86's fpu__exception_code.
  if (e & 0x01) return FPE_FLTINV;
  if (e & 0x04) return FPE_FLTDIV;
  if (e & 0x08) return FPE_FLTOVF;
  if (e & 0x12) return FPE_FLTUND;
  if (e & 0x20) return FPE_FLTRES;
  return 0;
}

FaultSignal fault_signal(int vector, uint64_t rip, uint64_t cr2, uint64_t err, bool mapped,
                         uint32_t fp_exceptions) {
  FaultSignal f{SIGSEGV, SI_KERNEL, 0, static_cast<uint64_t>(vector), err, 0};
  switch (vector) {
    case 0:  // divide error
      f.signo = SIGFPE;
      f.code = FPE_INTDIV;
      f.addr = rip;
      break;
    case 1:  // debug (single step)
      f.signo = SIGTRAP;
      f.code = TRAP_TRACE;
      f.addr = rip;
      break;
    case 3:  // int3: SI_KERNEL, no address
      f.signo = SIGTRAP;
      break;
    case 6:  // invalid opcode
      f.signo = SIGILL;
      f.code = ILL_ILLOPN;
      f.addr = rip;
      break;
    case 7:   // device not available
    case 11:  // segment not present
    case 12:  // stack segment
      f.signo = SIGBUS;
      break;
    case 14:  // page fault
      f.code = mapped ? SEGV_ACCERR : SEGV_MAPERR;
      f.addr = cr2;
      f.cr2 = cr2;
      break;
    case 16:  // x87 floating point
    case 19:  // SIMD floating point
      f.signo = SIGFPE;
      f.code = fpe_code(fp_exceptions);
      f.addr = rip;
      break;
    case 17:  // alignment check
      f.signo = SIGBUS;
      f.code = BUS_ADRALN;
      break;
    default:  // general protection and the rest: SIGSEGV, SI_KERNEL
      break;
  }
  return f;
}

}  // namespace dune
