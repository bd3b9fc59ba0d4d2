// The -c summary: rows, order, percentages, the total row, text and JSON.
#include <gtest/gtest.h>

#include <dune/trace.h>
#include <sys/syscall.h>

#include <memory>
#include <sstream>

#include "summary_table.h"

using namespace dunetrace;
using dune::trace_wire::SummaryTable;

namespace {

std::unique_ptr<SummaryTable> sample() {
  auto t = std::make_unique<SummaryTable>();
  for (int i = 0; i < 1000; ++i) t->syscalls[SYS_getppid].add(100 + i % 3, false);
  t->syscalls[SYS_openat].add(5000, false);
  t->syscalls[SYS_openat].add(7000, true);
  t->syscalls[SYS_read].add(50, false);
  t->exits[DUNE_EXIT_SYSCALL].add(300, false);
  t->exits[DUNE_EXIT_SYSCALL].add(500, false);
  t->exits[DUNE_EXIT_EXCEPTION].add(9000, false);
  t->faults[14].store(2);
  t->signals[SIGSEGV].store(1);
  t->processes.store(1);
  return t;
}

TEST(DunetraceSummary, RowsSortedWithTotals) {
  auto t = sample();
  Summary s = build_summary(*t, true, true);
  ASSERT_EQ(s.syscalls.rows.size(), 3u);
  // Most cycles first: getppid (101,000), openat (12,000), read (50).
  EXPECT_EQ(s.syscalls.rows[0].name, "getppid");
  EXPECT_EQ(s.syscalls.rows[0].count, 1000u);
  EXPECT_EQ(s.syscalls.rows[0].cycles, 101000u - 1);  // 334*100 + 333*101 + 333*102
  EXPECT_EQ(s.syscalls.rows[0].min, 100u);
  EXPECT_EQ(s.syscalls.rows[0].max, 102u);
  EXPECT_EQ(s.syscalls.rows[1].name, "openat");
  EXPECT_EQ(s.syscalls.rows[1].errors, 1u);
  EXPECT_EQ(s.syscalls.rows[1].avg(), 6000u);
  EXPECT_EQ(s.syscalls.rows[2].name, "read");
  const SummaryRow& total = s.syscalls.total;
  EXPECT_EQ(total.name, "total");
  EXPECT_EQ(total.count, 1003u);
  EXPECT_EQ(total.errors, 1u);
  EXPECT_EQ(total.cycles, 100999u + 12000u + 50u);
  EXPECT_EQ(total.min, 50u);
  EXPECT_EQ(total.max, 7000u);
  double sum = 0;
  for (const auto& r : s.syscalls.rows) sum += r.percent;
  EXPECT_NEAR(sum, 100.0, 1e-9);
  ASSERT_EQ(s.exits.rows.size(), 2u);
  EXPECT_EQ(s.exits.rows[0].name, "exception");
  EXPECT_EQ(s.exits.rows[1].name, "syscall");
  EXPECT_EQ(s.exits.total.count, 3u);
}

TEST(DunetraceSummary, TablesLeftOutAndEmpty) {
  auto t = sample();
  Summary s = build_summary(*t, false, true);
  EXPECT_TRUE(s.exits.rows.empty());
  SummaryTable empty;
  Summary e = build_summary(empty, true, true);
  EXPECT_TRUE(e.syscalls.rows.empty());
  EXPECT_EQ(e.syscalls.total.count, 0u);
  EXPECT_EQ(format_summary_text(e), "no events\n");
}

TEST(DunetraceSummary, TextTable) {
  auto t = sample();
  std::string text = format_summary_text(build_summary(*t, true, true));
  std::istringstream in(text);
  std::string line;
  bool header = false, getppid = false, total = false;
  while (std::getline(in, line)) {
    if (line.find("total cycles") != std::string::npos && line.find("syscall") != std::string::npos) header = true;
    std::istringstream f(line);
    std::string pct, cycles, avg, min, max, calls, last;
    f >> pct >> cycles >> avg >> min >> max >> calls;
    std::string rest;
    while (f >> rest) last = rest;
    if (last == "getppid") {
      getppid = true;
      EXPECT_EQ(calls, "1000");
      EXPECT_EQ(min, "100");
      EXPECT_EQ(max, "102");
    }
    if (last == "total" && calls == "1003") total = true;
  }
  EXPECT_TRUE(header) << text;
  EXPECT_TRUE(getppid) << text;
  EXPECT_TRUE(total) << text;
  EXPECT_NE(text.find("2 page_fault faults"), std::string::npos) << text;
  EXPECT_NE(text.find("1 SIGSEGV delivered"), std::string::npos) << text;
}

TEST(DunetraceSummary, JsonRows) {
  auto t = sample();
  std::string json = format_summary_json(build_summary(*t, true, true));
  EXPECT_NE(json.find(R"({"type":"summary","table":"syscall","name":"getppid","count":1000,)"), std::string::npos)
      << json;
  EXPECT_NE(json.find(R"("table":"syscall","name":"total","count":1003,)"), std::string::npos) << json;
  EXPECT_NE(json.find(R"("table":"exit","name":"syscall","count":2,)"), std::string::npos) << json;
  // One object per line.
  std::istringstream in(json);
  std::string line;
  while (std::getline(in, line)) {
    EXPECT_EQ(line.front(), '{');
    EXPECT_EQ(line.back(), '}');
  }
}

}  // namespace
