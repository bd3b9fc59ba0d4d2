// vm_calls.h - the host side of the classic API's page-table calls.
#pragma once

#include <cstdint>

namespace dune {
class Runtime;
class GuestThread;
namespace classic {

// Runs classic hypercall nr (runtime/hypercall.h) with argument a1 for the
// process (t: the calling guest thread, or nullptr outside Dune mode).
long vm_call(Runtime& rt, GuestThread* t, long nr, uint64_t a1);

}  // namespace classic
}  // namespace dune
