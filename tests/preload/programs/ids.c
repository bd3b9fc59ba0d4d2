/* ids: prints its real and effective user ids (run setuid in the shim's tests). */
#include <stdio.h>
#include <unistd.h>

int main(void) {
  printf("ids: uid %d euid %d\n", (int)getuid(), (int)geteuid());
  return 0;
}
