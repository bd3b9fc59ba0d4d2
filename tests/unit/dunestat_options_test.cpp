#include <gtest/gtest.h>

#include <vector>

#include "options.h"

namespace dunestat {
namespace {

ParsedOptions parse(std::vector<const char*> args) {
  args.insert(args.begin(), "dunestat");
  return parse_options(static_cast<int>(args.size()), args.data());
}

void expect_bad(std::vector<const char*> args, const std::string& mention) {
  ParsedOptions p = parse(args);
  EXPECT_EQ(p.action, ParsedOptions::Action::kBadInput) << mention;
  EXPECT_NE(p.text.find(mention), std::string::npos) << p.text;
  EXPECT_EQ(p.text.find('\n'), std::string::npos) << "one line: " << p.text;
  EXPECT_EQ(p.text.rfind("dunestat: ", 0), 0u) << p.text;
}

TEST(Options, Defaults) {
  ParsedOptions p = parse({});
  ASSERT_EQ(p.action, ParsedOptions::Action::kRun);
  EXPECT_EQ(p.options.format, Format::kTable);
  EXPECT_TRUE(p.options.svg_path.empty());
  EXPECT_TRUE(p.options.rows.all());
  EXPECT_FALSE(p.options.iterations);
  EXPECT_EQ(p.options.seconds, 0.5);
  EXPECT_FALSE(p.options.cpu);
  EXPECT_TRUE(p.options.pin);
  EXPECT_FALSE(p.options.require_dune);
  p = parse({"--no-pin"});
  ASSERT_EQ(p.action, ParsedOptions::Action::kRun) << p.text;
  EXPECT_FALSE(p.options.pin);
}

TEST(Options, EveryOption) {
  ParsedOptions p = parse({"--json", "--svg", "out.svg", "--only", "syscall,exit_floor,appel2", "--iterations",
                           "50", "--cpu", "1", "--require-dune"});
  ASSERT_EQ(p.action, ParsedOptions::Action::kRun) << p.text;
  const Options& o = p.options;
  EXPECT_EQ(o.format, Format::kJson);
  EXPECT_EQ(o.svg_path, "out.svg");
  EXPECT_EQ(o.rows.count(), 3u);
  EXPECT_TRUE(o.rows.test(row_index(RowId::kSyscall)));
  EXPECT_TRUE(o.rows.test(row_index(RowId::kExitFloor)));
  EXPECT_TRUE(o.rows.test(row_index(RowId::kAppel2)));
  EXPECT_EQ(o.iterations, 50u);
  EXPECT_EQ(o.cpu, 1);
  EXPECT_TRUE(o.require_dune);
  p = parse({"--csv", "--seconds=0.25"});
  ASSERT_EQ(p.action, ParsedOptions::Action::kRun) << p.text;
  EXPECT_EQ(p.options.format, Format::kCsv);
  EXPECT_EQ(p.options.seconds, 0.25);
}

TEST(Options, BadInputIsOneClearLine) {
  expect_bad({"--iterations", "0"}, "--iterations must be at least 1");
  expect_bad({"--iterations", "-3"}, "--iterations must be at least 1");
  expect_bad({"--iterations", "many"}, "iterations");
  expect_bad({"--only", "nosuchrow"}, "no row is called 'nosuchrow'");
  expect_bad({"--only", "syscall,"}, "no row is called ''");
  expect_bad({"--only", ""}, "no row is called ''");
  expect_bad({"--seconds", "0"}, "--seconds must be more than 0");
  expect_bad({"--seconds", "nan"}, "--seconds must be more than 0");
  expect_bad({"--seconds", "1e9"}, "at most 600");
  expect_bad({"--cpu", "-1"}, "--cpu must be a CPU number");
  expect_bad({"--json", "--csv"}, "exclude each other");
  expect_bad({"--cpu", "0", "--no-pin"}, "exclude each other");
  expect_bad({"--iterations", "5", "--seconds", "1"}, "exclude each other");
  expect_bad({"--svg", ""}, "--svg needs a file name");
  expect_bad({"--svg"}, "svg");
  expect_bad({"--frobnicate"}, "frobnicate");
  expect_bad({"extra"}, "takes only options");
}

TEST(Options, HelpStatesEveryRowAndItsMethod) {
  ParsedOptions p = parse({"--help"});
  ASSERT_EQ(p.action, ParsedOptions::Action::kHelp);
  for (const RowInfo& r : all_rows()) {
    EXPECT_NE(p.text.find(r.key), std::string::npos) << r.key;
    EXPECT_NE(p.text.find(r.title), std::string::npos) << r.title;
  }
  for (const char* o :
       {"--json", "--csv", "--svg", "--only", "--iterations", "--seconds", "--cpu", "--no-pin", "--require-dune"})
    EXPECT_NE(p.text.find(o), std::string::npos) << o;
  EXPECT_NE(p.text.find("dune_register_pgflt_handler"), std::string::npos);
  EXPECT_NE(p.text.find("getppid"), std::string::npos);
}

// The fault rows measure each mode's own way: Linux calls natively, the
// classic page-table call in Dune mode.
TEST(Options, HelpSaysHowEachModeProtectsPages) {
  for (RowId id : {RowId::kUserFault, RowId::kAppel1}) {
    std::string m = row_info(id).method;
    for (const char* call :
         {"Natively: mprotect", "SIGSEGV", "In Dune mode: dune_vm_mprotect", "Dune page-fault handler"})
      EXPECT_NE(m.find(call), std::string::npos) << row_info(id).key << ": " << call;
  }
  EXPECT_NE(std::string(row_info(RowId::kAppel2).method).find("those of appel1"), std::string::npos);
}

TEST(Options, WrapKeepsWordsAndWidth) {
  std::string w = wrap_text("one two three four five six", 4, 14);
  EXPECT_EQ(w, "    one two\n    three four\n    five six\n");
}

}  // namespace
}  // namespace dunestat
