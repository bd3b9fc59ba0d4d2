/* box_support.h - pieces for programs that run code in a Dune sandbox: a
 * section for the sandboxed code and data (mapped alone into the sandbox's
 * page table), raw syscalls for code that cannot call libc, and the mapping
 * of a stack. */
#ifndef DUNE_BOX_SUPPORT_H
#define DUNE_BOX_SUPPORT_H

#include <dune/dune.h>
#include <stdint.h>
#include <sys/mman.h>

/* Code and data for the sandbox: page-aligned sections of their own. No
 * stack protector: it reads the launcher's TLS, which the sandbox cannot. */
#define BOX_CODE __attribute__((section("dune_box_text"), noinline, no_stack_protector, aligned(64)))
#define BOX_DATA __attribute__((section("dune_box_data"), aligned(4096)))
extern char __start_dune_box_text[], __stop_dune_box_text[];
extern char __start_dune_box_data[], __stop_dune_box_data[];

static inline __attribute__((always_inline)) long box_syscall3(long nr, long a, long b, long c) {
  long r;
  __asm__ volatile("syscall" : "=a"(r) : "a"(nr), "D"(a), "S"(b), "d"(c) : "rcx", "r11", "memory");
  return r;
}

static inline uintptr_t box_page_down(uintptr_t a) { return a & ~4095ul; }
static inline uintptr_t box_page_up(uintptr_t a) { return (a + 4095) & ~4095ul; }

/* Maps [start, end) of the process's memory at the same address in root. */
static inline int box_map_same(ptent_t *root, void *start, void *end, int perm) {
  uintptr_t s = box_page_down((uintptr_t)start), e = box_page_up((uintptr_t)end);
  return dune_vm_map_phys(root, (void *)s, e - s, (void *)dune_va_to_pa((void *)s), perm);
}

/* A new root with the sandbox's code, data and a stack of `bytes`; *top: the
 * stack's top. NULL on failure. */
static inline ptent_t *box_make_root(size_t bytes, uintptr_t *top) {
  ptent_t *root = dune_vm_new_root();
  if (!root) return NULL;
  char *stack = mmap(NULL, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (stack == MAP_FAILED) return NULL;
  if (box_map_same(root, __start_dune_box_text, __stop_dune_box_text, PERM_UCODE) ||
      box_map_same(root, __start_dune_box_data, __stop_dune_box_data, PERM_UTEXT) ||
      box_map_same(root, stack, stack + bytes, PERM_USTACK))
    return NULL;
  *top = (uintptr_t)stack + bytes;
  return root;
}

/* A trap frame that calls fn(a0, a1) on the stack at top (with a return
 * address of 0: returning is a fault). */
static inline struct dune_tf box_call(void *fn, uintptr_t top, uint64_t a0, uint64_t a1) {
  struct dune_tf tf = {0};
  tf.rip = (uint64_t)fn;
  tf.rsp = top - 16;
  *(uint64_t *)(top - 16) = 0;
  tf.rdi = a0;
  tf.rsi = a1;
  tf.rflags = 0x2;
  return tf;
}

#endif
