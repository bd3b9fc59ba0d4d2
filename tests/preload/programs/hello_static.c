/* hello_static: a statically linked program (LD_PRELOAD cannot apply to it). */
#include <stdio.h>

int main(void) {
  printf("hello from a static program\n");
  return 3;
}
