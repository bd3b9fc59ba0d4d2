#include "fuzz_ops.h"

#include <string.h>

static const char *const kNames[FZ_KINDS] = {
    "write", "read",  "mmap",  "munmap", "mprotect", "madvise", "mremap", "touch", "sigprocmask", "sigaction",
    "kill",  "fstat", "close", "dup",    "lseek",    "poll",    "clone",  "wait",  "ids",         "pipe",
};

/* How often each kind comes, out of the sum. */
static const unsigned kWeights[FZ_KINDS] = {
    8, 8, 8, 5, 8, 6, 4, 8, 6, 6, 4, 4, 4, 5, 3, 3, 2, 2, 2, 2,
};

const char *fuzz_kind_name(int kind) { return kind >= 0 && kind < FZ_KINDS ? kNames[kind] : "?"; }

int fuzz_kind_of(const char *name) {
  for (int k = 0; k < FZ_KINDS; ++k)
    if (!strcmp(kNames[k], name)) return k;
  return -1;
}

uint64_t fuzz_next(uint64_t *state) {
  uint64_t z = (*state += 0x9e3779b97f4a7c15ull);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
  return z ^ (z >> 31);
}

void fuzz_generate(uint64_t seed, struct fuzz_op *out, size_t n) {
  uint64_t st = seed;
  unsigned total = 0;
  for (int k = 0; k < FZ_KINDS; ++k) total += kWeights[k];
  for (size_t i = 0; i < n; ++i) {
    unsigned pick = (unsigned)(fuzz_next(&st) % total);
    int kind = 0;
    while (pick >= kWeights[kind]) pick -= kWeights[kind++];
    out[i].kind = (uint8_t)kind;
    /* Each choice is reduced by the executor to the range its argument has. */
    for (int j = 0; j < 6; ++j) out[i].c[j] = (uint32_t)(fuzz_next(&st) >> 32);
  }
}

void fuzz_write_ops(FILE *f, const struct fuzz_op *ops, size_t n) {
  for (size_t i = 0; i < n; ++i)
    fprintf(f, "%s %u %u %u %u %u %u\n", fuzz_kind_name(ops[i].kind), ops[i].c[0], ops[i].c[1], ops[i].c[2],
            ops[i].c[3], ops[i].c[4], ops[i].c[5]);
}

long fuzz_read_ops(FILE *f, struct fuzz_op *out, size_t max) {
  char line[256];
  long n = 0;
  int lineno = 0;
  while (fgets(line, sizeof line, f)) {
    ++lineno;
    if (line[0] == '#' || line[0] == '\n') continue;
    char name[32];
    unsigned c[6];
    if (sscanf(line, "%31s %u %u %u %u %u %u", name, &c[0], &c[1], &c[2], &c[3], &c[4], &c[5]) != 7 ||
        fuzz_kind_of(name) < 0) {
      fprintf(stderr, "fuzz: line %d is not an op: %s", lineno, line);
      return -1;
    }
    if ((size_t)n == max) {
      fprintf(stderr, "fuzz: more than %zu ops\n", max);
      return -1;
    }
    out[n].kind = (uint8_t)fuzz_kind_of(name);
    for (int j = 0; j < 6; ++j) out[n].c[j] = c[j];
    ++n;
  }
  return n;
}
