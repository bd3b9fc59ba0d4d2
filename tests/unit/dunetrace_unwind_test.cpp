// Backtraces from registers, unwound from outside (here: this process, read
// through process_vm_readv as dunetrace reads a traced one), and symbolized.
#include <gtest/gtest.h>

#include <sys/mman.h>
#include <ucontext.h>
#include <unistd.h>

#include <string>

#include "elf_image.h"
#include "locator.h"
#include "process_maps.h"
#include "remote_unwinder.h"
#include "symbolizer.h"

using namespace dunetrace;

namespace {

struct Tools {
  ProcessMaps maps;
  ElfCache elves;
  Symbolizer symbols;
  Locator locator{maps, elves, symbols};
  RemoteUnwinder unwinder{maps, elves};
  uint64_t event = 1;

  std::vector<Location> backtrace(const dune_tf& regs, int depth = 32) {
    std::vector<Location> out;
    ++event;
    for (const UnwoundFrame& f : unwinder.unwind(getpid(), gettid(), regs, depth, event))
      out.push_back(locator.locate(getpid(), f.ip, !f.exact, event));
    return out;
  }
};

dune_tf regs_of(const ucontext_t& uc) {
  const auto& g = uc.uc_mcontext.gregs;
  dune_tf tf{};
  tf.rip = g[REG_RIP];
  tf.rsp = g[REG_RSP];
  tf.rbp = g[REG_RBP];
  tf.rbx = g[REG_RBX];
  tf.r12 = g[REG_R12];
  tf.r13 = g[REG_R13];
  tf.r14 = g[REG_R14];
  tf.r15 = g[REG_R15];
  return tf;
}

int g_call_line = 0;

// The registers here, while this frame and its callers are live.
__attribute__((noinline)) std::vector<Location> backtrace_here(Tools& t) {
  ucontext_t uc;
  getcontext(&uc);
  auto bt = t.backtrace(regs_of(uc));
  asm volatile("" ::: "memory");
  return bt;
}

__attribute__((noinline)) std::vector<Location> called_from_here(Tools& t) {
  g_call_line = __LINE__ + 1;
  auto bt = backtrace_here(t);
  asm volatile("" ::: "memory");
  return bt;
}

__attribute__((noinline)) dune_tf some_registers() {
  ucontext_t uc;
  getcontext(&uc);
  return regs_of(uc);
}

bool names(const std::vector<Location>& bt, const std::string& fn) {
  for (const Location& l : bt)
    if (l.symbol.function == fn) return true;
  return false;
}

TEST(DunetraceUnwind, NamesTheCallersWithLines) {
  Tools t;
  auto bt = called_from_here(t);
  ASSERT_GE(bt.size(), 3u);
  EXPECT_EQ(bt[0].symbol.function, "(anonymous namespace)::backtrace_here((anonymous namespace)::Tools&)")
      << bt[0].module;
  EXPECT_NE(bt[0].symbol.file.find("dunetrace_unwind_test.cpp"), std::string::npos) << bt[0].symbol.file;
  // A return address: the line of the call.
  EXPECT_EQ(bt[1].symbol.function, "(anonymous namespace)::called_from_here((anonymous namespace)::Tools&)");
  EXPECT_EQ(bt[1].symbol.line, g_call_line);
  EXPECT_TRUE(names(bt, "main"));
  EXPECT_NE(bt[0].module.find("dunetrace_unit_tests"), std::string::npos) << bt[0].module;
}

TEST(DunetraceUnwind, LibraryFramesHaveModuleAndSymbol) {
  Tools t;
  // As if getpid had just been called from called_from_here: its return
  // address on a stack of our own.
  static uint64_t stack[8];
  stack[0] = reinterpret_cast<uint64_t>(&called_from_here) + 4;
  dune_tf regs = some_registers();
  regs.rip = reinterpret_cast<uint64_t>(&getpid);
  regs.rsp = reinterpret_cast<uint64_t>(stack);
  auto bt = t.backtrace(regs, 2);
  ASSERT_EQ(bt.size(), 2u);
  EXPECT_NE(bt[0].module.find("libc.so"), std::string::npos) << bt[0].module;
  EXPECT_TRUE(bt[0].symbol.function == "getpid" || bt[0].symbol.function == "__getpid") << bt[0].symbol.function;
  EXPECT_EQ(bt[0].symbol.offset, 0u);
  EXPECT_EQ(bt[1].symbol.function, "(anonymous namespace)::called_from_here((anonymous namespace)::Tools&)");
  EXPECT_EQ(bt[1].symbol.offset, 4u);
}

TEST(DunetraceUnwind, WrongStackPointersEndTheBacktrace) {
  Tools t;
  dune_tf regs = some_registers();
  for (uint64_t bad : {0ull, 0x10ull, 0xfffffffffffff000ull, 0x00007ffffffff000ull, 0x4141414141414141ull}) {
    dune_tf r = regs;
    r.rsp = bad;
    r.rbp = bad;
    auto bt = t.backtrace(r);
    ASSERT_GE(bt.size(), 1u) << bad;
    EXPECT_EQ(bt[0].symbol.function, "(anonymous namespace)::some_registers()");
    EXPECT_LE(bt.size(), 2u) << "rsp " << std::hex << bad;
  }
  // A stack full of garbage that is readable: still bounded, still no crash.
  void* junk = mmap(nullptr, 1 << 16, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  ASSERT_NE(junk, MAP_FAILED);
  for (size_t i = 0; i < (1 << 16) / 8; ++i) static_cast<uint64_t*>(junk)[i] = 0x4141414141414141ull * (i & 1);
  dune_tf r = regs;
  r.rsp = reinterpret_cast<uint64_t>(junk) + 4096;
  r.rbp = r.rsp + 64;
  auto bt = t.backtrace(r, 64);
  EXPECT_GE(bt.size(), 1u);
  EXPECT_LE(bt.size(), 64u);
  munmap(junk, 1 << 16);
}

TEST(DunetraceUnwind, NoRipNoFrames) {
  Tools t;
  dune_tf regs{};
  EXPECT_TRUE(t.backtrace(regs).empty());
  regs.rip = 0x10;  // nothing mapped: one frame, no module
  auto bt = t.backtrace(regs);
  ASSERT_EQ(bt.size(), 1u);
  EXPECT_TRUE(bt[0].module.empty());
}

TEST(DunetraceUnwind, ElfImageOfThisProgram) {
  auto img = ElfImage::open("/proc/self/exe");
  ASSERT_TRUE(img);
  EXPECT_TRUE(img->relocatable());  // a PIE
  ASSERT_TRUE(img->unwind_table());
  EXPECT_GT(img->unwind_table()->entries, 10u);
  EXPECT_EQ(ElfImage::open("/nonexistent"), nullptr);
  EXPECT_EQ(ElfImage::open("/proc/self/maps"), nullptr);
}

}  // namespace
