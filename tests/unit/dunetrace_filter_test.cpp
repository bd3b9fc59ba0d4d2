// dunetrace's -e expressions: kinds, exit reasons, syscall names, signals.
#include <gtest/gtest.h>

#include <dune/trace.h>
#include <sys/syscall.h>

#include "event_filter.h"

using namespace dunetrace;

namespace {

EventFilter parse_ok(std::vector<std::string> exprs, bool summary = false) {
  auto f = parse_event_filter(exprs, summary);
  EXPECT_TRUE(f.ok()) << f.error;
  return f.value;
}

std::string parse_error(std::vector<std::string> exprs) {
  auto f = parse_event_filter(exprs, false);
  EXPECT_FALSE(f.ok());
  return f.error;
}

TEST(DunetraceFilter, DefaultIsEverythingButSyscallExits) {
  EventFilter f = parse_ok({});
  EXPECT_EQ(f.kinds, uint32_t{kAllKinds});
  EXPECT_FALSE(f.exits & (1u << DUNE_EXIT_SYSCALL));
  for (uint32_t k = DUNE_EXIT_EXCEPTION; k <= DUNE_EXIT_OTHER; ++k) EXPECT_TRUE(f.exits & (1u << k)) << k;
  EXPECT_TRUE(f.syscalls.all());
  EXPECT_EQ(f.signals, ~0ull);
  // Counting (-c) takes every exit.
  EXPECT_TRUE(parse_ok({}, true).exits & (1u << DUNE_EXIT_SYSCALL));
}

TEST(DunetraceFilter, KindLists) {
  EventFilter f = parse_ok({"fault,badstack", "signal"});
  EXPECT_EQ(f.kinds, uint32_t{kKindFault | kKindBadstack | kKindSignal});
  EXPECT_EQ(f.dune_mask(), uint32_t{DUNE_EV_FAULT | DUNE_EV_HOSTFAULT | DUNE_EV_BADSTACK | DUNE_EV_SIGNAL});
  EXPECT_EQ(parse_ok({"all"}).kinds, uint32_t{kAllKinds});
  // Named explicitly, exit means every exit.
  EXPECT_TRUE(parse_ok({"exit"}).exits & (1u << DUNE_EXIT_SYSCALL));
  EXPECT_EQ(parse_ok({"process"}).dune_mask(), uint32_t{DUNE_EV_THREAD});
}

TEST(DunetraceFilter, SyscallNames) {
  EventFilter f = parse_ok({"syscall=openat,read"});
  EXPECT_EQ(f.kinds, uint32_t{kKindSyscall});
  EXPECT_EQ(f.syscalls.count(), 2u);
  EXPECT_TRUE(f.syscalls.test(SYS_openat));
  EXPECT_TRUE(f.syscalls.test(SYS_read));
  EXPECT_FALSE(f.other_syscalls);
  // strace's spelling, numbers, and several -e adding up.
  EventFilter g = parse_ok({"trace=write", "syscall=39"});
  EXPECT_TRUE(g.syscalls.test(SYS_write));
  EXPECT_TRUE(g.syscalls.test(SYS_getpid));
  EXPECT_EQ(g.syscalls.count(), 2u);
}

TEST(DunetraceFilter, NegatedValues) {
  EventFilter f = parse_ok({"syscall=!getppid,getpid"});
  EXPECT_FALSE(f.syscalls.test(SYS_getppid));
  EXPECT_FALSE(f.syscalls.test(SYS_getpid));
  EXPECT_TRUE(f.syscalls.test(SYS_read));
  EXPECT_TRUE(f.other_syscalls);
  EventFilter e = parse_ok({"exit=!syscall"});
  EXPECT_FALSE(e.exits & (1u << DUNE_EXIT_SYSCALL));
  EXPECT_TRUE(e.exits & (1u << DUNE_EXIT_MMIO));
}

TEST(DunetraceFilter, ExitReasonsAndSignals) {
  EventFilter f = parse_ok({"exit=mmio,exception", "signal=SIGSEGV,USR1,9"});
  EXPECT_EQ(f.exits, (1u << DUNE_EXIT_MMIO) | (1u << DUNE_EXIT_EXCEPTION));
  EXPECT_EQ(f.signals, (1ull << (SIGSEGV - 1)) | (1ull << (SIGUSR1 - 1)) | (1ull << (SIGKILL - 1)));
  EXPECT_EQ(f.kinds, uint32_t{kKindExit | kKindSignal});
  EXPECT_EQ(parse_ok({"exit=none", "exit"}).exits, parse_ok({"exit"}).exits);
}

TEST(DunetraceFilter, Errors) {
  EXPECT_NE(parse_error({"bogus"}).find("invalid event kind 'bogus'"), std::string::npos);
  EXPECT_NE(parse_error({"syscall=nosuchcall"}).find("invalid syscall name 'nosuchcall'"), std::string::npos);
  EXPECT_NE(parse_error({"exit=nowhere"}).find("invalid exit reason 'nowhere'"), std::string::npos);
  EXPECT_NE(parse_error({"signal=SIGNOPE"}).find("invalid signal 'SIGNOPE'"), std::string::npos);
  EXPECT_NE(parse_error({"fault=page_fault"}).find("takes no values"), std::string::npos);
  EXPECT_FALSE(parse_error({"syscall="}).empty());
  EXPECT_FALSE(parse_error({"syscall=read,,write"}).empty());
  EXPECT_FALSE(parse_error({""}).empty());
  EXPECT_FALSE(parse_error({"all=1"}).empty());
}

}  // namespace
