/* flavour: which kind of virtualization Dune mode runs on, as libdune detected
 * it, checked against what the run expects. The test beds set
 * DUNE_TEST_EXPECT_FLAVOUR (vmx on kvm_intel, svm on kvm_amd, dune-module on
 * dune.ko): a bed that ran on the wrong flavour would test the wrong code.
 * Everywhere, the flavour must be known once in Dune mode, and VT-x or AMD-V
 * must match the CPU's vendor (a kvm_amd guest reports AMD, kvm_intel Intel). */
#include <cpuid.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "test_support.h"

static void cpu_vendor(char out[13]) {
  unsigned a, b, c, d;
  __cpuid(0, a, b, c, d);
  memcpy(out, &b, 4);
  memcpy(out + 4, &d, 4);
  memcpy(out + 8, &c, 4);
  out[12] = '\0';
}

int main(void) {
  int ret = dune_init_and_enter();
  if (ret) dune_test_skip_or_fail("flavour", ret);

  enum dune_flavour f = dune_get_flavour();
  const char *name = dune_flavour_name(f);
  char vendor[13];
  cpu_vendor(vendor); /* in Dune mode: the vCPU's CPUID, which KVM passes through */
  printf("flavour: %s (CPU vendor %s)\n", name, vendor);

  int failed = 0;
  if (f == DUNE_FLAVOUR_UNKNOWN) {
    fprintf(stderr, "flavour: FAIL: unknown flavour in Dune mode\n");
    failed = 1;
  }
  if (f == DUNE_FLAVOUR_VMX && strcmp(vendor, "GenuineIntel") != 0) {
    fprintf(stderr, "flavour: FAIL: VT-x flavour on a %s CPU\n", vendor);
    failed = 1;
  }
  if (f == DUNE_FLAVOUR_SVM && strcmp(vendor, "AuthenticAMD") != 0) {
    fprintf(stderr, "flavour: FAIL: AMD-V flavour on a %s CPU\n", vendor);
    failed = 1;
  }
  const char *want = getenv("DUNE_TEST_EXPECT_FLAVOUR");
  if (want && *want && strcmp(want, name) != 0) {
    fprintf(stderr, "flavour: FAIL: expected %s, detected %s\n", want, name);
    failed = 1;
  }
  if (!failed) printf("flavour: ok\n");
  return failed;
}
