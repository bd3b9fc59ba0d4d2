// The fuzzer's sequences: a seed gives the same ops everywhere, every kind
// comes, and the text form (divergences kept as files) reads back the same.
#include <gtest/gtest.h>

#include <cstdio>
#include <cstring>
#include <set>
#include <string>

extern "C" {
#include "fuzz_ops.h"
}

namespace {

bool same(const fuzz_op* a, const fuzz_op* b, size_t n) {
  for (size_t i = 0; i < n; ++i)
    if (a[i].kind != b[i].kind || std::memcmp(a[i].c, b[i].c, sizeof a[i].c) != 0) return false;
  return true;
}

TEST(FuzzOps, SeedGivesTheSameSequence) {
  fuzz_op a[200], b[200], c[200];
  fuzz_generate(42, a, 200);
  fuzz_generate(42, b, 200);
  fuzz_generate(43, c, 200);
  EXPECT_TRUE(same(a, b, 200));
  EXPECT_FALSE(same(a, c, 200));
  // A shorter run of the same seed is the longer one's beginning.
  fuzz_op d[50];
  fuzz_generate(42, d, 50);
  EXPECT_TRUE(same(a, d, 50));
}

TEST(FuzzOps, EveryKindComes) {
  static fuzz_op ops[5000];
  fuzz_generate(7, ops, 5000);
  std::set<int> kinds;
  for (const auto& op : ops) kinds.insert(op.kind);
  EXPECT_EQ(kinds.size(), static_cast<size_t>(FZ_KINDS));
}

TEST(FuzzOps, TextRoundTripAndBadLines) {
  fuzz_op ops[30], back[30];
  fuzz_generate(9, ops, 30);
  char* text = nullptr;
  size_t len = 0;
  FILE* f = open_memstream(&text, &len);
  fuzz_write_ops(f, ops, 30);
  std::fclose(f);
  std::string with_comment = "# a comment\n" + std::string(text, len);
  std::free(text);
  f = fmemopen(with_comment.data(), with_comment.size(), "r");
  EXPECT_EQ(fuzz_read_ops(f, back, 30), 30);
  std::fclose(f);
  EXPECT_TRUE(same(ops, back, 30));
  std::string bad = "write 1 2 3\n";
  f = fmemopen(bad.data(), bad.size(), "r");
  EXPECT_EQ(fuzz_read_ops(f, back, 30), -1);
  std::fclose(f);
  std::string unknown = "frobnicate 1 2 3 4 5 6\n";
  f = fmemopen(unknown.data(), unknown.size(), "r");
  EXPECT_EQ(fuzz_read_ops(f, back, 30), -1);
  std::fclose(f);
  EXPECT_STREQ(fuzz_kind_name(FZ_MREMAP), "mremap");
  EXPECT_EQ(fuzz_kind_of("mremap"), FZ_MREMAP);
}

}  // namespace
