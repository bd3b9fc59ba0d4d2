/* Uses the installed dune.h: enters Dune mode if it can, and says so. */
#include <dune/dune.h>
#include <stdio.h>

int main(void) {
  int r = dune_init_and_enter();
  printf("consumer: flavour %s, dune_init_and_enter %d, active %d\n",
         dune_flavour_name(dune_get_flavour()), r, dune_is_active());
  return 0;
}
