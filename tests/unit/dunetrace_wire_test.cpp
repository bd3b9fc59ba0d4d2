// What dunetrace and the shim share: DUNE_TRACE, and how events read as text.
#include <gtest/gtest.h>

#include <dune/trace.h>
#include <sys/mman.h>
#include <sys/syscall.h>

#include <cstring>

#include "event_format.h"
#include "json.h"
#include "names.h"
#include "process_maps.h"
#include "syscall_format.h"
#include "trace_config.h"

using namespace dunetrace;

namespace {

TEST(DunetraceWire, TraceConfigRoundTrip) {
  dune::TraceConfig c;
  c.kinds = DUNE_EV_SYSCALL | DUNE_EV_THREAD;
  c.exits = 0x6;
  for (auto& w : c.syscalls) w = 0;
  c.set_syscall(SYS_getppid, true);
  c.set_syscall(1023, true);
  c.other_syscalls = false;
  c.signals = 1ull << (SIGSEGV - 1);
  c.stack_depth = 12;
  c.follow = true;
  c.summary = true;
  c.root = 4242;
  std::strcpy(c.dir, "/tmp/with;semi=colons");
  std::string text = dune::encode_trace_config(c);
  dune::TraceConfig d;
  ASSERT_TRUE(dune::decode_trace_config(text, &d)) << text;
  EXPECT_EQ(d.kinds, c.kinds);
  EXPECT_EQ(d.exits, c.exits);
  EXPECT_TRUE(d.syscall_passes(SYS_getppid));
  EXPECT_TRUE(d.syscall_passes(1023));
  EXPECT_FALSE(d.syscall_passes(SYS_read));
  EXPECT_FALSE(d.syscall_passes(5000));
  EXPECT_TRUE(d.signal_passes(SIGSEGV));
  EXPECT_FALSE(d.signal_passes(SIGUSR1));
  EXPECT_FALSE(d.signal_passes(0));
  EXPECT_EQ(d.stack_depth, 12);
  EXPECT_TRUE(d.follow && d.summary);
  EXPECT_EQ(d.root, 4242);
  EXPECT_STREQ(d.dir, "/tmp/with;semi=colons");
}

TEST(DunetraceWire, TraceConfigRejectsGarbage) {
  dune::TraceConfig d;
  EXPECT_FALSE(dune::decode_trace_config("", &d));
  EXPECT_FALSE(dune::decode_trace_config("kinds=7f", &d));  // no dir
  EXPECT_FALSE(dune::decode_trace_config("kinds=xyz;dir=/tmp", &d));
  EXPECT_FALSE(dune::decode_trace_config("nonsense=1;dir=/tmp", &d));
  EXPECT_FALSE(dune::decode_trace_config("follow=2;dir=/tmp", &d));
  EXPECT_FALSE(dune::decode_trace_config("sys=1,2;dir=/tmp", &d));  // 16 words expected
  EXPECT_TRUE(dune::decode_trace_config("kinds=7f;dir=/tmp", &d));
}

TEST(DunetraceWire, SyscallText) {
  EXPECT_EQ(format_syscall_arg(3), "3");
  EXPECT_EQ(format_syscall_arg(0xffffff9c), "-100");  // AT_FDCWD passed as an int
  EXPECT_EQ(format_syscall_arg(static_cast<uint64_t>(-1)), "-1");
  EXPECT_EQ(format_syscall_arg(0x7ffd12345678), "0x7ffd12345678");
  EXPECT_EQ(format_syscall_result(3), "= 3");
  EXPECT_EQ(format_syscall_result(-2), "= -1 ENOENT (No such file or directory)");
  EXPECT_EQ(format_syscall_result(0x7f0000001000), "= 0x7f0000001000");
  EXPECT_EQ(format_syscall_result(-512), "= ? ERESTARTSYS (To be restarted if SA_RESTART is set)");
  EXPECT_EQ(syscall_arity(SYS_getppid), 0);
  EXPECT_EQ(syscall_arity(SYS_openat), 4);
  EXPECT_EQ(syscall_arity(100000), 6);
}

TEST(DunetraceWire, Names) {
  EXPECT_EQ(signal_name(SIGSEGV), "SIGSEGV");
  EXPECT_EQ(signal_from_name("SIGSEGV"), SIGSEGV);
  EXPECT_EQ(signal_from_name("segv"), std::nullopt);
  EXPECT_EQ(signal_from_name("USR1"), SIGUSR1);
  EXPECT_EQ(signal_from_name("9"), SIGKILL);
  EXPECT_EQ(signal_from_name("65"), std::nullopt);
  EXPECT_EQ(exit_reason_from_name("mmio"), uint32_t{DUNE_EXIT_MMIO});
  EXPECT_STREQ(exit_reason_name(DUNE_EXIT_TRAP_RETURN), "trap_return");
  EXPECT_EQ(vector_name(14), "page_fault");
  EXPECT_EQ(vector_name(99), "vector_99");
  EXPECT_EQ(prot_string(PROT_READ | PROT_EXEC), "r-x");
  EXPECT_EQ(syscall_name(SYS_getppid), "getppid");
  EXPECT_EQ(syscall_from_name("getppid"), SYS_getppid);
  EXPECT_EQ(errno_name(2), "ENOENT");
  EXPECT_EQ(si_code_name(SIGSEGV, SEGV_ACCERR), "SEGV_ACCERR");
}

TEST(DunetraceWire, JsonQuoting) {
  EXPECT_EQ(json_quote("a\"b\\c\n\x01"), R"("a\"b\\c\n\u0001")");
  JsonObject o;
  o.add("s", "x");
  o.add("n", uint64_t{18446744073709551615ull});
  o.add("i", -5);
  o.add("b", true);
  o.add_null("z");
  EXPECT_EQ(o.str(), R"({"s":"x","n":18446744073709551615,"i":-5,"b":true,"z":null})");
}

TEST(DunetraceWire, MapsParsing) {
  auto r = parse_maps(
      "7f0000000000-7f0000021000 r-xp 00002000 08:01 1234    /usr/lib/libc.so.6\n"
      "7ffd00000000-7ffd00021000 rw-p 00000000 00:00 0                          [stack]\n"
      "55550000-55551000 rw-p 00000000 00:00 0 \n"
      "garbage\n");
  ASSERT_EQ(r.size(), 3u);
  EXPECT_EQ(r[0].start, 0x55550000u);
  EXPECT_TRUE(r[0].path.empty());
  EXPECT_EQ(r[1].path, "/usr/lib/libc.so.6");
  EXPECT_EQ(r[1].offset, 0x2000u);
  EXPECT_EQ(r[1].prot, PROT_READ | PROT_EXEC);
  EXPECT_TRUE(r[1].file());
  EXPECT_EQ(r[2].path, "[stack]");
  EXPECT_FALSE(r[2].file());
}

TEST(DunetraceWire, EventLines) {
  dune::trace_wire::TraceRecord rec{};
  rec.event.kind = DUNE_EV_SYSCALL;
  rec.event.pid = 10;
  rec.event.tid = 11;
  rec.event.cycles = 2600;
  rec.event.u.syscall.nr = SYS_getppid;
  rec.event.u.syscall.ret = 9;
  EventData d;
  d.rec = &rec;
  // strace's column: the result at 40.
  const std::string pad(40 - 9, ' ');
  EXPECT_EQ(EventFormatter({}).format(d), "getppid()" + pad + "= 9\n");
  FormatStyle timed;
  timed.follow = true;
  timed.timing = true;
  timed.tsc_hz = 2.6e9;
  EXPECT_EQ(EventFormatter(timed).format(d), "[pid 10 tid 11] getppid()" + pad + "= 9 <0.000001>\n");
  FormatStyle json;
  json.json = true;
  EXPECT_EQ(EventFormatter(json).format(d),
            R"({"event":"syscall","pid":10,"tid":11,"tsc":0,"name":"getppid","nr":110,"args":[],"raw_args":[],)"
            R"("ret":9,"result":"9","cycles":2600})"
            "\n");
  rec.event.kind = DUNE_EV_THREAD;
  rec.event.u.thread = {};
  rec.event.u.thread.process = 1;
  rec.event.u.thread.signo = SIGSEGV;
  EXPECT_EQ(EventFormatter({}).format(d), "+++ killed by SIGSEGV +++\n");
}

}  // namespace
