// clone3's struct read and checked as the kernel does (copy_struct_from_user,
// clone3_stack_valid), from a buffer standing for the program's memory.
#include <gtest/gtest.h>

#include <cstring>
#include <vector>

#include "runtime/clone_args.h"

namespace dune {
namespace {

// The program's memory: `mapped` bytes from address 0x1000.
struct FakeMemory {
  std::vector<unsigned char> bytes;
  bool operator()(void* dst, uint64_t addr, size_t n) const {
    if (addr < 0x1000 || addr - 0x1000 + n > bytes.size()) return false;
    std::memcpy(dst, bytes.data() + (addr - 0x1000), n);
    return true;
  }
};

FakeMemory memory_with(const CloneArgs& a, size_t total) {
  FakeMemory m;
  m.bytes.assign(total, 0);
  std::memcpy(m.bytes.data(), &a, sizeof a < total ? sizeof a : total);
  return m;
}

TEST(CloneArgs, SizesOutsideVer0ToAPageAreRefused) {
  CloneArgs a{}, out{};
  auto m = memory_with(a, 8192);
  EXPECT_EQ(read_clone_args(0x1000, 0, &out, m), -EINVAL);
  EXPECT_EQ(read_clone_args(0x1000, 63, &out, m), -EINVAL);
  EXPECT_EQ(read_clone_args(0x1000, 4097, &out, m), -E2BIG);
  EXPECT_EQ(read_clone_args(0x1000, 4096, &out, m), 0);
}

TEST(CloneArgs, AShortStructIsZeroExtended) {
  CloneArgs a{};
  a.flags = 0x100;
  a.tls = 77;
  a.set_tid = 5;  // past VER0: not read
  auto m = memory_with(a, sizeof a);
  CloneArgs out{};
  out.set_tid = 9;
  ASSERT_EQ(read_clone_args(0x1000, 64, &out, m), 0);
  EXPECT_EQ(out.flags, 0x100u);
  EXPECT_EQ(out.tls, 77u);
  EXPECT_EQ(out.set_tid, 0u);
}

TEST(CloneArgs, ALongStructMustBeZeroPastTheKnownFields) {
  CloneArgs a{};
  auto m = memory_with(a, 200);
  CloneArgs out{};
  EXPECT_EQ(read_clone_args(0x1000, 200, &out, m), 0);
  m.bytes[150] = 1;
  EXPECT_EQ(read_clone_args(0x1000, 200, &out, m), -E2BIG);
}

TEST(CloneArgs, UnreadableBytesAreEfault) {
  CloneArgs a{}, out{};
  auto m = memory_with(a, sizeof a);
  EXPECT_EQ(read_clone_args(0x1000, sizeof a + 1, &out, m), -EFAULT);
  EXPECT_EQ(read_clone_args(0x9000, sizeof a, &out, m), -EFAULT);
}

TEST(CloneArgs, StackAndSizeComeTogether) {
  CloneArgs a{};
  EXPECT_EQ(check_clone_args(a), 0);
  a.stack = 0x7000;
  EXPECT_EQ(check_clone_args(a), -EINVAL);
  a.stack_size = 0x1000;
  EXPECT_EQ(check_clone_args(a), 0);
  a.stack = 0;
  EXPECT_EQ(check_clone_args(a), -EINVAL);
  a.stack = kUserAddressEnd - 0x800;
  EXPECT_EQ(check_clone_args(a), -EINVAL);  // past the user address space
}

TEST(CloneArgs, SetTidAndItsSizeComeTogether) {
  CloneArgs a{};
  a.set_tid_size = 1;
  EXPECT_EQ(check_clone_args(a), -EINVAL);
  a.set_tid = 0x5000;
  EXPECT_EQ(check_clone_args(a), 0);
  a.set_tid_size = 33;
  EXPECT_EQ(check_clone_args(a), -EINVAL);
  a.set_tid_size = 0;
  EXPECT_EQ(check_clone_args(a), -EINVAL);
}

}  // namespace
}  // namespace dune
