// The library's own descriptors: above the program's numbers, room to open one
// when the program's table is full, the parent's left open in a shared table.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include <vector>

#include "base/own_fds.h"
#include "base/unique_fd.h"

namespace dune {
namespace {

// A soft limit with room below the hard one, for the test's length.
class OwnFds : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_EQ(getrlimit(RLIMIT_NOFILE, &saved_), 0);
    if (saved_.rlim_max < 512) GTEST_SKIP() << "hard RLIMIT_NOFILE " << saved_.rlim_max << " below 512";
    rlimit small{256, saved_.rlim_max};
    ASSERT_EQ(setrlimit(RLIMIT_NOFILE, &small), 0);
  }
  void TearDown() override { setrlimit(RLIMIT_NOFILE, &saved_); }
  static rlim_t soft() {
    rlimit rl{};
    getrlimit(RLIMIT_NOFILE, &rl);
    return rl.rlim_cur;
  }
  rlimit saved_{};
};

// An evicted descriptor keeps its first number as its name; once that number
// is free again, a descriptor adopted there must not share the name (found by
// dune_fuzz: a fork child's new VM resolved to the old device, ENOTTY).
TEST_F(OwnFds, ANameIsNeverTwoDescriptors) {
  UniqueFd first = UniqueFd::adopt(open("/dev/null", O_RDONLY));
  int name = first.get();
  ASSERT_EQ(own_fds::evict(name), 0);
  int moved = first.get();
  EXPECT_NE(moved, name);
  close(name);  // the number evict left behind, gone
  UniqueFd second = UniqueFd::adopt(open("/dev/zero", O_RDONLY));
  EXPECT_NE(second.get(), moved);
  // Each name still leads to its own file.
  struct stat a {}, b {};
  ASSERT_EQ(fstat(first.get(), &a), 0);
  ASSERT_EQ(fstat(second.get(), &b), 0);
  EXPECT_NE(a.st_rdev, b.st_rdev);
  EXPECT_EQ(first.get(), moved);
}

TEST_F(OwnFds, LiveAtOrAboveTheSoftLimitWhichStaysTheProgramsAfterwards) {
  UniqueFd fd = UniqueFd::adopt(open("/dev/null", O_RDONLY));
  EXPECT_GE(fd.get(), 256);
  EXPECT_TRUE(own_fds::owns(fd.get()));
  EXPECT_EQ(fcntl(fd.get(), F_GETFD) & FD_CLOEXEC, FD_CLOEXEC);
  EXPECT_EQ(soft(), 256u);
}

TEST_F(OwnFds, CanBeOpenedWhenTheProgramsTableIsFull) {
  std::vector<int> mine;
  for (;;) {
    int d = open("/dev/null", O_RDONLY);
    if (d < 0) break;
    mine.push_back(d);
  }
  ASSERT_EQ(errno, EMFILE);
  UniqueFd lib;
  long name = UniqueFd::create(&lib, [] { return static_cast<long>(open("/dev/null", O_RDONLY | O_CLOEXEC)); });
  EXPECT_GE(name, 256);
  EXPECT_TRUE(lib.valid());
  EXPECT_EQ(soft(), 256u);
  // The program's own opens still meet its limit.
  EXPECT_EQ(open("/dev/null", O_RDONLY), -1);
  EXPECT_EQ(errno, EMFILE);
  for (int d : mine) close(d);
}

TEST_F(OwnFds, HeadroomNestsAndRestoresTheProgramsLimitOnce) {
  {
    own_fds::Headroom outer;
    rlim_t raised = soft();
    EXPECT_GT(raised, 256u);
    {
      own_fds::Headroom inner;
      EXPECT_EQ(soft(), raised);
    }
    EXPECT_EQ(soft(), raised);
  }
  EXPECT_EQ(soft(), 256u);
}

TEST_F(OwnFds, AParentsDescriptorInASharedTableStaysOpenAndOwned) {
  UniqueFd parents = UniqueFd::adopt(open("/dev/null", O_RDONLY));
  int number = parents.get();
  own_fds::share_parents_table();
  EXPECT_TRUE(own_fds::shares_parents_table());
  UniqueFd own = UniqueFd::adopt(open("/dev/null", O_RDONLY));
  int own_number = own.get();
  parents.reset();
  EXPECT_GE(fcntl(number, F_GETFD), 0);  // still open: the parent's
  EXPECT_TRUE(own_fds::owns(number));
  own_fds::close_own();
  EXPECT_EQ(fcntl(own_number, F_GETFD), -1);  // this process's own: closed
  EXPECT_GE(fcntl(number, F_GETFD), 0);
  (void)own.release();
  close(number);
}

}  // namespace
}  // namespace dune
