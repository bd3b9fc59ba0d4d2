/* unavailable: where Dune mode cannot be entered (here: no KVM device at the
 * path DUNE_KVM_DEVICE names), dune_init_and_enter says why once and returns
 * a negative errno, and the program goes on natively. */
#include <dune/dune.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>

int main(void) {
  setenv("DUNE_KVM_DEVICE", "/nonexistent/kvm", 1);
  int r = dune_init_and_enter();
  printf("unavailable: dune_init_and_enter returned %d (%s)\n", r, r == -ENOENT ? "ENOENT, as expected" : "unexpected");
  printf("unavailable: still running natively: dune_is_active() = %d\n", dune_is_active());
  int r2 = dune_enter();
  printf("unavailable: dune_enter after the failure returned %d\n", r2);
  int ok = r == -ENOENT && !dune_is_active() && r2 == -EINVAL;
  printf(ok ? "unavailable: ok\n" : "unavailable: FAIL\n");
  return ok ? 0 : 1;
}
