#include <gtest/gtest.h>

#include "budget.h"
#include "rows.h"
#include "stats.h"

namespace dunestat {
namespace {

void expect_figures(const Summary& s, uint64_t reps, double min, double median, double p90, double max) {
  EXPECT_EQ(s.reps, reps);
  EXPECT_EQ(s.min, min);
  EXPECT_EQ(s.median, median);
  EXPECT_EQ(s.p90, p90);
  EXPECT_EQ(s.max, max);
}

TEST(Quantile, NearestRank) {
  std::vector<uint64_t> v{10, 20, 30, 40, 50, 60, 70, 80, 90, 100};
  EXPECT_EQ(quantile_of_sorted(v, 0.5), 50u);
  EXPECT_EQ(quantile_of_sorted(v, 0.9), 90u);
  EXPECT_EQ(quantile_of_sorted(v, 1.0), 100u);
  EXPECT_EQ(quantile_of_sorted(v, 0.01), 10u);
  std::vector<uint64_t> one{7};
  EXPECT_EQ(quantile_of_sorted(one, 0.5), 7u);
  EXPECT_EQ(quantile_of_sorted(one, 0.9), 7u);
}

TEST(Sampler, SummarizesWhatItWasGiven) {
  Sampler s;
  EXPECT_EQ(s.summary().reps, 0u);
  for (uint64_t v : {5, 1, 9, 3, 7}) s.add(v);
  expect_figures(s.summary(), 5, 1, 5, 9, 9);
}

TEST(Sampler, KeepsExactExtremesAndFairQuantilesPastItsCapacity) {
  Sampler s(1000);
  // 100,000 samples uniform over 0..99,999 in a scrambled order, far more than kept.
  for (uint64_t i = 0; i < 100000; ++i) s.add((i * 7919) % 100000);
  Summary sum = s.summary();
  EXPECT_EQ(sum.reps, 100000u);
  EXPECT_EQ(sum.min, 0);
  EXPECT_EQ(sum.max, 99999);
  EXPECT_NEAR(sum.median, 50000, 5000);
  EXPECT_NEAR(sum.p90, 90000, 5000);
}

TEST(Overhead, SubtractsAndNeverWrapsBelowZero) {
  Summary s{10, 20, 400, 500, 9000};
  // min: 20 - 30 is 0, not 2^64 - 10 (the original Dune's User fault figure).
  expect_figures(minus_overhead(s, 30), 10, 0, 370, 470, 8970);
}

TEST(Overhead, PerFaultDividesFiguresAndMultipliesReps) {
  Summary s{50, 1000, 2000, 3000, 4000};
  expect_figures(per_part(s, 100), 5000, 10, 20, 30, 40);
}

TEST(Repetitions, ExactCountOrAtLeastOneWithinTime) {
  Repetitions three(Budget{3, 100});
  EXPECT_TRUE(three.more(0));
  EXPECT_TRUE(three.more(2));
  EXPECT_FALSE(three.more(3));
  EXPECT_EQ(three.left(1), 2u);
  EXPECT_EQ(three.left(5), 0u);
  Repetitions timed(Budget{std::nullopt, 0.01});
  EXPECT_EQ(timed.left(7), UINT64_MAX);
  uint64_t done = 0;
  while (timed.more(done)) ++done;  // ends, after at least one
  EXPECT_GE(done, 1u);
}

TEST(Rows, KeysAreUniqueAndFound) {
  ASSERT_EQ(all_rows().size(), kRowCount);
  for (size_t i = 0; i < kRowCount; ++i) {
    const RowInfo& r = all_rows()[i];
    EXPECT_EQ(row_index(r.id), i) << r.key;
    EXPECT_EQ(find_row(r.key), r.id);
    EXPECT_NE(std::string(r.method), "");
  }
  EXPECT_FALSE(find_row("nosuchrow"));
  EXPECT_FALSE(find_row(""));
  EXPECT_EQ(row_info(RowId::kAppel1).faults_per_rep, kAppelPages);
  EXPECT_EQ(row_info(RowId::kSyscall).faults_per_rep, 1u);
}

TEST(Rows, MeasuringAlwaysIncludesTheOverheadAndTheFloorForSyscalls) {
  RowSet only_fork;
  only_fork.set(row_index(RowId::kFork));
  RowSet m = rows_to_measure(only_fork);
  EXPECT_TRUE(m.test(row_index(RowId::kTsc)));
  EXPECT_FALSE(m.test(row_index(RowId::kExitFloor)));
  RowSet only_syscall;
  only_syscall.set(row_index(RowId::kSyscall));
  m = rows_to_measure(only_syscall);
  EXPECT_TRUE(m.test(row_index(RowId::kTsc)));
  EXPECT_TRUE(m.test(row_index(RowId::kExitFloor)));
  EXPECT_EQ(m.count(), 3u);
}

}  // namespace
}  // namespace dunestat
