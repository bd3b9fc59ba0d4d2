#include "mm/table_directory.h"

#include <gtest/gtest.h>

#include <memory_resource>

#include "mm/page_table_pool.h"

namespace dune {
namespace {

constexpr uint64_t kChunk = 2u << 20;

TEST(TableDirectory, FindsTheChunkOfAGuestPhysicalAddress) {
  table_directory::clear();
  table_directory::add(0x200000, 0x7f0000000000, kChunk);  // packed layout: gpa != hva
  table_directory::add(0x600000, 0x7f0000400000, kChunk);
  EXPECT_EQ(table_directory::table_at(0x200000), reinterpret_cast<uint64_t*>(0x7f0000000000));
  EXPECT_EQ(table_directory::table_at(0x3ff000), reinterpret_cast<uint64_t*>(0x7f00001ff000));
  EXPECT_EQ(table_directory::table_at(0x601000), reinterpret_cast<uint64_t*>(0x7f0000401000));
  EXPECT_EQ(table_directory::table_at(0x400000), nullptr) << "between the chunks";
  EXPECT_EQ(table_directory::table_at(0x1ff000), nullptr);
  EXPECT_TRUE(table_directory::complete());
  table_directory::clear();
  EXPECT_EQ(table_directory::table_at(0x200000), nullptr);
}

TEST(TableDirectory, OneChunkTooManyMakesItIncomplete) {
  table_directory::clear();
  uint64_t gpa = 0;
  while (table_directory::complete()) {
    table_directory::add(gpa, gpa, kChunk);  // identity layout
    gpa += kChunk;
    ASSERT_LT(gpa, 4096 * kChunk) << "never full";
  }
  EXPECT_EQ(table_directory::table_at(0x1000), reinterpret_cast<uint64_t*>(0x1000));
  table_directory::clear();
  EXPECT_TRUE(table_directory::complete());
}

// Guest ring 0 (monitor/exception_gate.cpp) reads only chunks the guest's
// table maps: a chunk is not one until expose_tables says so.
TEST(TableDirectory, MappedChunksOnlyForRingZero) {
  table_directory::clear();
  table_directory::add(0x200000, 0x7f0000000000, kChunk);
  table_directory::add(0x600000, 0x7f0000400000, kChunk);
  EXPECT_EQ(table_directory::mapped_table_at(0x201000), nullptr);
  table_directory::mark_guest_mapped(0x7f0000000000);
  EXPECT_EQ(table_directory::mapped_table_at(0x201000), reinterpret_cast<uint64_t*>(0x7f0000001000));
  EXPECT_EQ(table_directory::mapped_table_at(0x601000), nullptr) << "the other chunk is not mapped";
  EXPECT_EQ(table_directory::table_at(0x601000), reinterpret_cast<uint64_t*>(0x7f0000401000));
  // A new process image starts over: its chunks are not mapped yet.
  table_directory::clear();
  table_directory::add(0x200000, 0x7f0000000000, kChunk);
  EXPECT_EQ(table_directory::mapped_table_at(0x201000), nullptr);
  table_directory::clear();
}

// Guest ring 0 keeps the leaf tables it found (monitor/exception_gate.h's
// WalkMemo) while the generation stays: a released table page may come back
// as another table, and a new image's directory is another.
TEST(TableDirectory, ReleasedTablesAndClearsMoveTheGeneration) {
  PageTablePool pool([](uint64_t hva, uint64_t) -> Result<uint64_t> { return hva; }, true,
                     std::pmr::get_default_resource());
  auto page = pool.allocate();
  ASSERT_TRUE(page.ok());
  uint64_t g0 = table_directory::generation();
  auto other = pool.allocate();
  ASSERT_TRUE(other.ok());
  EXPECT_EQ(table_directory::generation(), g0) << "a new table changes no table found before";
  pool.release(page->gpa);
  uint64_t g1 = table_directory::generation();
  EXPECT_NE(g1, g0);
  table_directory::clear();
  EXPECT_NE(table_directory::generation(), g1);
}

}  // namespace
}  // namespace dune
