#include <gtest/gtest.h>

#include "rows.h"
#include "stats.h"

namespace dunestat {
namespace {

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
  Summary sum = s.summary();
  EXPECT_EQ(sum.reps, 5u);
  EXPECT_EQ(sum.min, 1);
  EXPECT_EQ(sum.median, 5);
  EXPECT_EQ(sum.p90, 9);
  EXPECT_EQ(sum.max, 9);
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
  Summary d = minus_overhead(s, 30);
  EXPECT_EQ(d.reps, 10u);
  EXPECT_EQ(d.min, 0);  // 20 - 30 is not 2^64 - 10 (the original Dune's User fault figure)
  EXPECT_EQ(d.median, 370);
  EXPECT_EQ(d.p90, 470);
  EXPECT_EQ(d.max, 8970);
}

TEST(Overhead, PerFaultDividesFiguresAndMultipliesReps) {
  Summary s{50, 1000, 2000, 3000, 4000};
  Summary f = per_part(s, 100);
  EXPECT_EQ(f.reps, 5000u);
  EXPECT_EQ(f.min, 10);
  EXPECT_EQ(f.median, 20);
  EXPECT_EQ(f.p90, 30);
  EXPECT_EQ(f.max, 40);
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
