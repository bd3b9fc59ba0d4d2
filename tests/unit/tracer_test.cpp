#include "runtime/tracer.h"

#include <gtest/gtest.h>

#include <fstream>
#include <sstream>

namespace dune {
namespace {

TEST(Tracer, ReadsTracerPidFromStatus) {
  EXPECT_EQ(tracer_pid_in_status("Name:\tcat\nState:\tR (running)\nTracerPid:\t0\nUid:\t0\t0\t0\t0\n"), 0);
  EXPECT_EQ(tracer_pid_in_status("Name:\tcat\nTracerPid:\t4242\nUid:\t0\n"), 4242);
  EXPECT_EQ(tracer_pid_in_status("TracerPid: 17"), 17) << "last line, no newline";
}

TEST(Tracer, MissingOrBadFieldIsUnknown) {
  EXPECT_EQ(tracer_pid_in_status(""), -1);
  EXPECT_EQ(tracer_pid_in_status("Name:\tcat\nPid:\t12\n"), -1);
  EXPECT_EQ(tracer_pid_in_status("TracerPid:\t\n"), -1);
  EXPECT_EQ(tracer_pid_in_status("TracerPid:\t12x\n"), -1);
  EXPECT_EQ(tracer_pid_in_status("TracerPid:\t99999999999999999999\n"), -1);
  EXPECT_EQ(tracer_pid_in_status("XTracerPid:\t5\n"), -1) << "the field, not a suffix of another";
}

TEST(Tracer, ThisProcessAsProcSaysIt) {
  std::ifstream f("/proc/self/status");
  std::stringstream text;
  text << f.rdbuf();
  long want = tracer_pid_in_status(text.str());
  ASSERT_GE(want, 0);
  Tracer t = current_tracer();
  EXPECT_EQ(t.pid, want);
  if (want > 0) {
    EXPECT_NE(t.name[0], 0) << "a tracer has a name";
  }
}

}  // namespace
}  // namespace dune
