#include "mm/interval_map.h"

#include <gtest/gtest.h>

#include <vector>

namespace dune {
namespace {

struct V {
  int x;
  bool operator==(const V&) const = default;
};

std::vector<std::pair<Range, int>> dump(IntervalMap<V>& m) {
  std::vector<std::pair<Range, int>> out;
  m.for_each([&](Range r, V& v) { out.push_back({r, v.x}); });
  return out;
}

TEST(IntervalMap, AssignMergesEqualNeighbours) {
  IntervalMap<V> m;
  m.assign(0x1000, 0x2000, V{1});
  m.assign(0x2000, 0x3000, V{1});
  m.assign(0x4000, 0x5000, V{1});
  auto d = dump(m);
  ASSERT_EQ(d.size(), 2u);
  EXPECT_EQ(d[0].first, (Range{0x1000, 0x3000}));
  EXPECT_EQ(d[1].first, (Range{0x4000, 0x5000}));
}

TEST(IntervalMap, AssignSplitsWhatItOverlaps) {
  IntervalMap<V> m;
  m.assign(0x1000, 0x9000, V{1});
  m.assign(0x3000, 0x5000, V{2});
  auto d = dump(m);
  ASSERT_EQ(d.size(), 3u);
  EXPECT_EQ(d[0].first, (Range{0x1000, 0x3000}));
  EXPECT_EQ(d[1].first, (Range{0x3000, 0x5000}));
  EXPECT_EQ(d[1].second, 2);
  EXPECT_EQ(d[2].first, (Range{0x5000, 0x9000}));
}

TEST(IntervalMap, EraseMiddleLeavesTwoParts) {
  IntervalMap<V> m;
  m.assign(0x1000, 0x9000, V{1});
  m.erase(0x4000, 0x6000);
  auto d = dump(m);
  ASSERT_EQ(d.size(), 2u);
  EXPECT_EQ(d[0].first, (Range{0x1000, 0x4000}));
  EXPECT_EQ(d[1].first, (Range{0x6000, 0x9000}));
  EXPECT_EQ(m.find(0x5000).second, nullptr);
  EXPECT_EQ(m.find(0x3fff).second->x, 1);
  EXPECT_EQ(m.find(0x6000).first, (Range{0x6000, 0x9000}));
}

TEST(IntervalMap, UpdateSplitsAndRemerges) {
  IntervalMap<V> m;
  m.assign(0x1000, 0x5000, V{1});
  m.update(0x2000, 0x3000, [](V& v) { v.x = 2; });
  EXPECT_EQ(m.entries(), 3u);
  m.update(0x2000, 0x3000, [](V& v) { v.x = 1; });
  EXPECT_EQ(m.entries(), 1u);
  EXPECT_EQ(m.find(0x4fff).first, (Range{0x1000, 0x5000}));
}

TEST(IntervalMap, UpdateTouchesOnlyCoveredParts) {
  IntervalMap<V> m;
  m.assign(0x1000, 0x2000, V{1});
  m.assign(0x3000, 0x4000, V{1});
  m.update(0x0, 0x10000, [](V& v) { v.x = 7; });
  auto d = dump(m);
  ASSERT_EQ(d.size(), 2u);
  EXPECT_EQ(d[0].second, 7);
  EXPECT_EQ(d[1].second, 7);
  EXPECT_EQ(m.find(0x2800).second, nullptr);
}

TEST(IntervalMap, GapsAndCoverage) {
  IntervalMap<V> m;
  m.assign(0x2000, 0x3000, V{1});
  m.assign(0x5000, 0x6000, V{1});
  std::vector<Range> gaps;
  m.for_each_gap(0x1000, 0x7000, [&](Range g) { gaps.push_back(g); });
  ASSERT_EQ(gaps.size(), 3u);
  EXPECT_EQ(gaps[0], (Range{0x1000, 0x2000}));
  EXPECT_EQ(gaps[1], (Range{0x3000, 0x5000}));
  EXPECT_EQ(gaps[2], (Range{0x6000, 0x7000}));
  EXPECT_TRUE(m.covers(0x2000, 0x3000));
  EXPECT_FALSE(m.covers(0x2000, 0x3001));
}

TEST(IntervalMap, ForEachClipsToTheRange) {
  IntervalMap<V> m;
  m.assign(0x1000, 0x9000, V{1});
  std::vector<Range> seen;
  m.for_each(0x2000, 0x3000, [&](Range r, V&) { seen.push_back(r); });
  ASSERT_EQ(seen.size(), 1u);
  EXPECT_EQ(seen[0], (Range{0x2000, 0x3000}));
}

TEST(IntervalMap, Neighbours) {
  IntervalMap<V> m;
  m.assign(0x1000, 0x2000, V{1});
  m.assign(0x8000, 0x9000, V{2});
  auto above = m.next_above(0x3000);
  ASSERT_NE(above.second, nullptr);
  EXPECT_EQ(above.first.start, 0x8000u);
  auto below = m.last_below(0x3000);
  ASSERT_NE(below.second, nullptr);
  EXPECT_EQ(below.first.end, 0x2000u);
  EXPECT_EQ(m.next_above(0x9000).second, nullptr);
  EXPECT_EQ(m.last_below(0x1800).second, nullptr);
}

}  // namespace
}  // namespace dune
