/* image_end_late.c - libimage_end_late.so: a getppid syscall made here, not
 * in libc, so that its address is in this library's mapping. */
#include <sys/syscall.h>

long late_getppid(void) {
  long r;
  __asm__ volatile("syscall" : "=a"(r) : "a"((long)SYS_getppid) : "rcx", "r11", "memory");
  return r;
}
