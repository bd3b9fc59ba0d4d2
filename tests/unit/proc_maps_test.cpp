#include "mm/proc_maps.h"

#include <gtest/gtest.h>
#include <sys/mman.h>

#include "mm/address_space.h"

namespace dune {
namespace {

TEST(ProcMaps, ParsesAFileMapping) {
  ProcMapsEntry e;
  ASSERT_TRUE(parse_proc_maps_line(
      "7f2a1c000000-7f2a1c028000 r-xp 00026000 fe:00 332835                     "
      "/usr/lib/x86_64-linux-gnu/libc.so.6",
      &e));
  EXPECT_EQ(e.start, 0x7f2a1c000000u);
  EXPECT_EQ(e.end, 0x7f2a1c028000u);
  EXPECT_EQ(e.prot, PROT_READ | PROT_EXEC);
  EXPECT_FALSE(e.shared);
  EXPECT_EQ(e.offset, 0x26000u);
  EXPECT_EQ(e.inode, 332835u);
  EXPECT_EQ(e.path, "/usr/lib/x86_64-linux-gnu/libc.so.6");
}

TEST(ProcMaps, ParsesAnonymousSharedAndSpecial) {
  ProcMapsEntry e;
  ASSERT_TRUE(parse_proc_maps_line("7ffd81334000-7ffd81355000 rw-p 00000000 00:00 0    [stack]", &e));
  EXPECT_EQ(e.path, "[stack]");
  EXPECT_EQ(attrs_from_proc_maps(e).kind, RegionKind::kStack);
  EXPECT_TRUE(attrs_from_proc_maps(e).growsdown);
  ASSERT_TRUE(parse_proc_maps_line("10000-20000 ---s 00000000 00:05 7", &e));
  EXPECT_EQ(e.prot, PROT_NONE);
  EXPECT_TRUE(e.shared);
  EXPECT_EQ(e.path, "");
  EXPECT_FALSE(attrs_from_proc_maps(e).needs_slot());
  ASSERT_TRUE(parse_proc_maps_line("20000-21000 rw-s 00000000 00:01 42 /SYSV00000000 (deleted)", &e));
  EXPECT_EQ(attrs_from_proc_maps(e).kind, RegionKind::kShm);
}

TEST(ProcMaps, RejectsMalformedLines) {
  ProcMapsEntry e;
  EXPECT_FALSE(parse_proc_maps_line("", &e));
  EXPECT_FALSE(parse_proc_maps_line("zzzz-1000 rw-p 0 00:00 0", &e));
  EXPECT_FALSE(parse_proc_maps_line("2000-1000 rw-p 00000000 00:00 0", &e));
  EXPECT_FALSE(parse_proc_maps_line("1000-2000 rw", &e));
}

TEST(ProcMaps, SnapshotIteratesEveryLine) {
  auto snap = ProcMapsSnapshot::from_text(
      "1000-2000 r--p 00000000 00:00 0\n"
      "2000-3000 rw-p 00000000 00:00 0 [heap]\n"
      "ffffffffff600000-ffffffffff601000 --xp 00000000 00:00 0 [vsyscall]\n");
  int n = 0;
  snap.for_each([&](const ProcMapsEntry&) {
    ++n;
    return true;
  });
  EXPECT_EQ(n, 3);
}

TEST(ProcMaps, ReadsThisProcess) {
  auto snap = ProcMapsSnapshot::read_self();
  ASSERT_TRUE(snap.ok());
  bool stack = false;
  snap->for_each([&](const ProcMapsEntry& e) {
    stack |= e.path == "[stack]";
    return true;
  });
  EXPECT_TRUE(stack);
}

}  // namespace
}  // namespace dune
