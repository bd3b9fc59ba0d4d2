#include <gtest/gtest.h>

#include "report.h"
#include "worker_report.h"

namespace dunestat {
namespace {

// A worker report as if every row of `rows` had been measured with these figures.
WorkerReport measured(Mode mode, RowSet rows, double scale) {
  std::string text = mode == Mode::kDune ? entered_line() : "";
  for (const RowInfo& r : all_rows()) {
    if (!rows.test(row_index(r.id))) continue;
    double base = r.id == RowId::kTsc ? 40 : r.id == RowId::kExitFloor ? 67000 : 1000 * scale;
    text += summary_line(r.id, Summary{100, base * 0.9, base, base * 1.1, base * 3});
  }
  return decode_worker_report(mode, text + end_line());
}

TEST(WorkerLines, RoundTrip) {
  std::string text = entered_line() + summary_line(RowId::kSyscall, Summary{18148, 67262, 68536.5, 70460, 3296150}) +
                     missing_line(RowId::kFork, true, "fork: Resource temporarily unavailable\nand more") +
                     missing_line(RowId::kExitFloor, false, "") + end_line();
  WorkerReport r = decode_worker_report(Mode::kDune, text);
  EXPECT_TRUE(r.trouble.empty()) << r.trouble;
  EXPECT_TRUE(r.entered);
  EXPECT_TRUE(r.complete);
  ASSERT_TRUE(r.row(RowId::kSyscall));
  const Summary& s = *r.row(RowId::kSyscall)->summary;
  EXPECT_EQ(s.reps, 18148u);
  EXPECT_EQ(s.min, 67262);
  EXPECT_EQ(s.median, 68536.5);
  EXPECT_EQ(s.p90, 70460);
  EXPECT_EQ(s.max, 3296150);
  ASSERT_TRUE(r.row(RowId::kFork));
  EXPECT_TRUE(r.row(RowId::kFork)->failed);
  EXPECT_EQ(r.row(RowId::kFork)->missing, "fork: Resource temporarily unavailable; and more");
  EXPECT_FALSE(r.row(RowId::kExitFloor)->failed);
  EXPECT_EQ(r.row(RowId::kExitFloor)->missing, "no reason given");
  EXPECT_FALSE(r.row(RowId::kThread));
}

TEST(WorkerLines, UnavailableAndBrokenInput) {
  WorkerReport r = decode_worker_report(Mode::kDune, unavailable_line("dune: /dev/kvm does not exist") + end_line());
  EXPECT_FALSE(r.entered);
  EXPECT_EQ(r.unavailable, "dune: /dev/kvm does not exist");
  r = decode_worker_report(Mode::kNative, "row syscall 10 1 2 3\nrow nosuch 1 1 1 1 1\nrow tsc 1 2 3 4 5");
  EXPECT_FALSE(r.complete);
  EXPECT_FALSE(r.row(RowId::kSyscall));
  EXPECT_FALSE(r.row(RowId::kTsc));  // cut off before its newline
  EXPECT_NE(r.trouble.find("3 line(s)"), std::string::npos) << r.trouble;
}

TEST(BuildReport, SubtractsOverheadAndComputesRatios) {
  Options o;
  WorkerReport native = measured(Mode::kNative, every_row(), 1);
  WorkerReport dune = measured(Mode::kDune, every_row(), 70);
  Report rep = build_report(Machine{}, o, native, dune);
  EXPECT_TRUE(rep.dune_available);
  EXPECT_TRUE(rep.problems.empty());
  ASSERT_EQ(rep.rows.size(), kRowCount);
  EXPECT_EQ(rep.overhead_native, 40);
  const RowReport& tsc = rep.rows[row_index(RowId::kTsc)];
  EXPECT_EQ(tsc.native.figures->median, 40);  // shown as read
  const RowReport& sys = rep.rows[row_index(RowId::kSyscall)];
  EXPECT_EQ(sys.native.figures->median, 960);
  EXPECT_EQ(sys.dune.figures->median, 69960);
  EXPECT_DOUBLE_EQ(*sys.dune_to_native, 69960.0 / 960.0);
  EXPECT_DOUBLE_EQ(*sys.dune_to_floor, 69960.0 / 66960.0);
  EXPECT_FALSE(rep.rows[row_index(RowId::kFork)].dune_to_floor);
  const RowReport& appel = rep.rows[row_index(RowId::kAppel1)];
  ASSERT_TRUE(appel.has_per_fault());
  EXPECT_DOUBLE_EQ(appel.per_fault(appel.dune).figures->median, 69960.0 / 100);
}

TEST(BuildReport, OnlyTheChosenRows) {
  Options o;
  o.rows.reset();
  o.rows.set(row_index(RowId::kSyscall));
  RowSet measure = rows_to_measure(o.rows);
  Report rep = build_report(Machine{}, o, measured(Mode::kNative, measure, 1), measured(Mode::kDune, measure, 70));
  ASSERT_EQ(rep.rows.size(), 1u);
  EXPECT_EQ(rep.rows[0].info->id, RowId::kSyscall);
  EXPECT_TRUE(rep.rows[0].dune_to_floor);  // the floor was measured though not shown
}

TEST(BuildReport, NativeColumnAndTheReasonWithoutDune) {
  Options o;
  WorkerReport dune = decode_worker_report(
      Mode::kDune, missing_line(RowId::kExitFloor, false, "no /dev/kvm") + unavailable_line("no /dev/kvm") + end_line());
  Report rep = build_report(Machine{}, o, measured(Mode::kNative, every_row(), 1), dune);
  EXPECT_FALSE(rep.dune_available);
  EXPECT_EQ(rep.dune_missing, "no /dev/kvm");
  EXPECT_TRUE(rep.problems.empty());  // missing KVM is not a failed measurement
  for (const RowReport& r : rep.rows) {
    EXPECT_TRUE(r.native.figures) << r.info->key;
    EXPECT_FALSE(r.dune.figures) << r.info->key;
    EXPECT_FALSE(r.dune_to_native);
    EXPECT_FALSE(r.dune.missing.empty());
  }
}

TEST(BuildReport, AWorkerThatDiedIsAProblem) {
  Options o;
  WorkerReport dune =
      decode_worker_report(Mode::kDune, entered_line() + summary_line(RowId::kTsc, Summary{5, 40, 40, 40, 40}));
  dune.trouble = "the dune worker was killed by signal 11";
  WorkerReport native = measured(Mode::kNative, every_row(), 1);
  native.rows[row_index(RowId::kFork)] = RowOutcome{std::nullopt, "fork: no memory", true};
  Report rep = build_report(Machine{}, o, native, dune);
  EXPECT_TRUE(rep.dune_available);
  ASSERT_EQ(rep.problems.size(), 2u);
  EXPECT_NE(rep.problems[0].find("native fork: fork: no memory"), std::string::npos);
  EXPECT_NE(rep.problems[1].find("signal 11"), std::string::npos);
  EXPECT_NE(rep.rows[row_index(RowId::kSignal)].dune.missing.find("signal 11"), std::string::npos);
}

}  // namespace
}  // namespace dunestat
