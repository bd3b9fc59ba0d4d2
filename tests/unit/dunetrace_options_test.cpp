// dunetrace's command line: options, the command, errors and their messages.
#include <gtest/gtest.h>

#include <dune/trace.h>

#include <vector>

#include "options.h"

using namespace dunetrace;

namespace {

Parsed<Options> parse(std::vector<const char*> args) {
  args.insert(args.begin(), "dunetrace");
  return parse_options(static_cast<int>(args.size()), args.data());
}

TEST(DunetraceOptions, CommandAndItsOptionsStayTogether) {
  auto o = parse({"ls", "-l", "-c", "--json"});
  ASSERT_TRUE(o.ok()) << o.error;
  EXPECT_EQ(o.value.command, (std::vector<std::string>{"ls", "-l", "-c", "--json"}));
  EXPECT_FALSE(o.value.summary);
  EXPECT_FALSE(o.value.json);
  EXPECT_FALSE(o.value.follow);
  EXPECT_EQ(o.value.stack_depth, 0);
  EXPECT_TRUE(o.value.output.empty());
}

TEST(DunetraceOptions, DoubleDashEndsOptions) {
  auto o = parse({"-f", "--", "-prog", "x"});
  ASSERT_TRUE(o.ok()) << o.error;
  EXPECT_TRUE(o.value.follow);
  EXPECT_EQ(o.value.command, (std::vector<std::string>{"-prog", "x"}));
}

TEST(DunetraceOptions, EveryOption) {
  auto o = parse({"-f", "-o", "trace.txt", "-e", "syscall=read", "-e", "fault", "-k", "-c", "--json", "-T", "prog"});
  ASSERT_TRUE(o.ok()) << o.error;
  const Options& v = o.value;
  EXPECT_TRUE(v.follow && v.summary && v.json && v.timing);
  EXPECT_EQ(v.output, "trace.txt");
  EXPECT_EQ(v.events, (std::vector<std::string>{"syscall=read", "fault"}));
  EXPECT_EQ(v.stack_depth, kDefaultStackDepth);
  EXPECT_EQ(v.filter.kinds, uint32_t{kKindSyscall | kKindFault});
  EXPECT_EQ(v.command, (std::vector<std::string>{"prog"}));
}

TEST(DunetraceOptions, GdbServerAddress) {
  auto o = parse({"--gdb", "1234", "prog"});
  ASSERT_TRUE(o.ok()) << o.error;
  EXPECT_EQ(o.value.gdb, "1234");
  EXPECT_EQ(o.value.command, (std::vector<std::string>{"prog"}));
  o = parse({"--gdb=/tmp/dbg.sock", "prog"});
  ASSERT_TRUE(o.ok()) << o.error;
  EXPECT_EQ(o.value.gdb, "/tmp/dbg.sock");
  o = parse({"--gdb", "host:x", "prog"});
  ASSERT_FALSE(o.ok());
  EXPECT_NE(o.error.find("--gdb host:x"), std::string::npos) << o.error;
}

TEST(DunetraceOptions, LongFormsAndStickyShortOnes) {
  auto o = parse({"--follow", "--output=t", "--events", "exit", "--summary", "--time", "prog"});
  ASSERT_TRUE(o.ok()) << o.error;
  EXPECT_TRUE(o.value.follow && o.value.summary && o.value.timing);
  EXPECT_EQ(o.value.output, "t");
  EXPECT_EQ(o.value.filter.kinds, uint32_t{kKindExit});
  auto g = parse({"-fcTot", "-esyscall", "prog"});
  ASSERT_TRUE(g.ok()) << g.error;
  EXPECT_TRUE(g.value.follow && g.value.summary && g.value.timing);
  EXPECT_EQ(g.value.output, "t");
  EXPECT_EQ(g.value.filter.kinds, uint32_t{kKindSyscall});
  EXPECT_EQ(g.value.command, (std::vector<std::string>{"prog"}));
}

TEST(DunetraceOptions, ValuesThatLookLikeOptionNames) {
  // A value is a value, even when it names an option or starts one.
  auto o = parse({"-o", "summary", "-e", "exit", "--output", "t", "prog", "-o", "x"});
  EXPECT_FALSE(o.ok());  // -o given twice
  auto p = parse({"-o", "s", "-e", "exit", "prog", "-o", "x"});
  ASSERT_TRUE(p.ok()) << p.error;
  EXPECT_EQ(p.value.output, "s");
  EXPECT_EQ(p.value.command, (std::vector<std::string>{"prog", "-o", "x"}));
  auto q = parse({"-o", "json", "prog"});
  ASSERT_TRUE(q.ok()) << q.error;
  EXPECT_EQ(q.value.output, "json");
  EXPECT_FALSE(q.value.json);
}

TEST(DunetraceOptions, StackDepth) {
  auto o = parse({"--stack-depth", "5", "prog"});
  ASSERT_TRUE(o.ok()) << o.error;
  EXPECT_EQ(o.value.stack_depth, 5);
  EXPECT_FALSE(parse({"--stack-depth", "0", "prog"}).ok());
  EXPECT_FALSE(parse({"--stack-depth", "257", "prog"}).ok());
  EXPECT_FALSE(parse({"--stack-depth", "many", "prog"}).ok());
}

TEST(DunetraceOptions, PerProcessFilesNeedAFileAndFollow) {
  auto o = parse({"--ff", "-o", "t", "prog"});
  ASSERT_TRUE(o.ok()) << o.error;
  EXPECT_TRUE(o.value.output_per_process);
  EXPECT_TRUE(o.value.follow);
  auto ff = parse({"-ff", "-o", "t", "prog"});  // strace's spelling
  ASSERT_TRUE(ff.ok()) << ff.error;
  EXPECT_TRUE(ff.value.output_per_process);
  auto bad = parse({"--ff", "prog"});
  EXPECT_FALSE(bad.ok());
  EXPECT_NE(bad.error.find("--ff needs -o"), std::string::npos);
}

TEST(DunetraceOptions, Errors) {
  auto unknown = parse({"--bogus", "prog"});
  ASSERT_FALSE(unknown.ok());
  EXPECT_NE(unknown.error.find("--bogus"), std::string::npos) << unknown.error;
  auto none = parse({});
  ASSERT_FALSE(none.ok());
  EXPECT_NE(none.error.find("must have PROG"), std::string::npos);
  EXPECT_FALSE(parse({"-o"}).ok());
  EXPECT_FALSE(parse({"-f"}).ok());
  EXPECT_FALSE(parse({"-e", "nonsense", "prog"}).ok());
}

TEST(DunetraceOptions, HelpNeedsNoCommand) {
  auto o = parse({"--help"});
  ASSERT_TRUE(o.ok()) << o.error;
  EXPECT_TRUE(o.value.help);
  EXPECT_TRUE(parse({"-h"}).value.help);
}

TEST(DunetraceOptions, HelpShowsEveryOptionAndAnExample) {
  std::string h = help_text();
  for (const char* opt : {"--output", "--ff", "--follow", "--events", "--stack", "--stack-depth", "--summary",
                          "--json", "--time", "--help", "-o", "-f", "-e", "-k", "-c", "-T"})
    EXPECT_NE(h.find(opt), std::string::npos) << opt;
  for (const char* kind : {"exit", "syscall", "fault", "badstack", "signal", "process"})
    EXPECT_NE(h.find(kind), std::string::npos) << kind;
  EXPECT_NE(h.find("Examples:\n  dunetrace "), std::string::npos);
}

}  // namespace
