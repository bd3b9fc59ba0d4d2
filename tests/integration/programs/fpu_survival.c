/* fpu_survival: vector (AVX-512, else AVX2, else SSE) and x87 registers keep
 * their values across 10,000 forwarded syscalls, and across a trap handler. */
#include <cpuid.h>
#include <dune/dune.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>

#include "test_support.h"

/* 10,000 (1,000 in the emulated VT-x bed: DUNE_TEST_QUICK). */
static long rounds;

/* XGETBV faults unless the kernel enabled XSAVE (OSXSAVE), whatever CPUID
 * says about the vector units. */
static int os_xsave(void) {
  unsigned a, b, c, d;
  return __get_cpuid(1, &a, &b, &c, &d) && (c & (1u << 27));
}

static int has_avx512(void) {
  unsigned a, b, c, d;
  if (!os_xsave() || !__get_cpuid_count(7, 0, &a, &b, &c, &d) || !(b & (1u << 16))) return 0;
  unsigned lo, hi;
  __asm__("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0));
  return (lo & 0xe6) == 0xe6;
}
static int has_avx2(void) {
  unsigned a, b, c, d;
  if (!os_xsave() || !__get_cpuid_count(7, 0, &a, &b, &c, &d) || !(b & (1u << 5))) return 0;
  unsigned lo, hi;
  __asm__("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0));
  return (lo & 6) == 6;
}

static uint8_t in[32 * 64] __attribute__((aligned(64)));
static uint8_t out[32 * 64] __attribute__((aligned(64)));
static uint64_t kin[8], kout[8];
static long double xin[8], xout[8];

/* Loads the registers, makes `rounds` getppid syscalls, stores them. */
#define SYSCALL_LOOP                                              \
  "1: mov $110, %%eax\n syscall\n dec %%rbx\n jnz 1b\n"

static void run_avx512(long rounds) {
  __asm__ volatile(
      ".irp n,0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23,24,25,26,27,28,29,30,31\n"
      "vmovdqu64 \\n*64(%[in]), %%zmm\\n\n"
      ".endr\n"
      ".irp n,1,2,3,4,5,6,7\n kmovq \\n*8(%[kin]), %%k\\n\n .endr\n"
      SYSCALL_LOOP
      ".irp n,0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23,24,25,26,27,28,29,30,31\n"
      "vmovdqu64 %%zmm\\n, \\n*64(%[out])\n"
      ".endr\n"
      ".irp n,1,2,3,4,5,6,7\n kmovq %%k\\n, \\n*8(%[kout])\n .endr\n"
      "vzeroupper\n"
      : "+b"(rounds)
      : [in] "r"(in), [out] "r"(out), [kin] "r"(kin), [kout] "r"(kout)
      : "rax", "rcx", "r11", "memory");
}

static void run_avx2(long rounds) {
  __asm__ volatile(
      ".irp n,0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15\n vmovdqu \\n*32(%[in]), %%ymm\\n\n .endr\n"
      SYSCALL_LOOP
      ".irp n,0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15\n vmovdqu %%ymm\\n, \\n*32(%[out])\n .endr\n"
      "vzeroupper\n"
      : "+b"(rounds)
      : [in] "r"(in), [out] "r"(out)
      : "rax", "rcx", "r11", "memory");
}

static void run_sse(long rounds) {
  __asm__ volatile(
      ".irp n,0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15\n movdqu \\n*16(%[in]), %%xmm\\n\n .endr\n"
      SYSCALL_LOOP
      ".irp n,0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15\n movdqu %%xmm\\n, \\n*16(%[out])\n .endr\n"
      : "+b"(rounds)
      : [in] "r"(in), [out] "r"(out)
      : "rax", "rcx", "r11", "memory");
}

static void run_x87(long rounds) {
  __asm__ volatile(
      ".irp n,0,1,2,3,4,5,6,7\n fldt \\n*16(%[in])\n .endr\n"
      SYSCALL_LOOP
      ".irp n,0,1,2,3,4,5,6,7\n fstpt \\n*16(%[out])\n .endr\n"
      : "+b"(rounds)
      : [in] "r"(xin), [out] "r"(xout)
      : "rax", "rcx", "r11", "memory");
}

int main(void) {
  int r = dune_init_and_enter();
  if (r) dune_test_skip_or_fail("fpu_survival", r);
  rounds = dune_test_count(10000, 1000);
  for (size_t i = 0; i < sizeof in; ++i) in[i] = (uint8_t)(i * 37 + 11);
  for (int i = 0; i < 8; ++i) {
    kin[i] = 0x0123456789abcdefull * (uint64_t)(i + 1);
    xin[i] = 1.0L / (i + 3) + i * 1000.0L;
  }
  int failures = 0;
  const char *kind;
  size_t bytes;
  if (has_avx512()) {
    kind = "AVX-512 (zmm0-31, k1-7)";
    bytes = 32 * 64;
    run_avx512(rounds);
    for (int i = 1; i < 8; ++i) failures += kin[i] != kout[i];
  } else if (has_avx2()) {
    kind = "AVX2 (ymm0-15)";
    bytes = 16 * 32;
    run_avx2(rounds);
  } else {
    kind = "SSE (xmm0-15)";
    bytes = 16 * 16;
    run_sse(rounds);
  }
  failures += memcmp(in, out, bytes) != 0;
  run_x87(rounds);
  /* fstp pops in reverse order of fld: st0 was loaded last. */
  for (int i = 0; i < 8; ++i) failures += xout[i] != xin[7 - i];
  printf("fpu_survival: %s and x87 st0-7 across %ld syscalls each: %s\n", kind, rounds,
         failures ? "FAIL" : "ok");
  return failures ? 1 : 0;
}
