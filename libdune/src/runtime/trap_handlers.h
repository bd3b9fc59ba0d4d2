// trap_handlers.h - the program's Dune trap handlers (dune_register_*_handler).
#pragma once

#include <dune/dune.h>

namespace dune {

dune_intr_cb intr_handler(int vector);
dune_pgflt_cb pgflt_handler();
int set_intr_handler(int vector, dune_intr_cb cb);
int set_pgflt_handler(dune_pgflt_cb cb);

}  // namespace dune
