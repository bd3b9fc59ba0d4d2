#include <gtest/gtest.h>

#include "base/log.h"
#include "base/parse_size.h"
#include "base/result.h"

namespace dune {
namespace {

TEST(ParseByteSize, AcceptsCountsAndBinarySuffixes) {
  EXPECT_EQ(parse_byte_size("4096"), 4096u);
  EXPECT_EQ(parse_byte_size("8G"), 8ull << 30);
  EXPECT_EQ(parse_byte_size("512MiB"), 512ull << 20);
  EXPECT_EQ(parse_byte_size("2k"), 2048u);
  EXPECT_EQ(parse_byte_size("1TB"), 1ull << 40);
}

TEST(ParseByteSize, RejectsEverythingElse) {
  for (const char* bad : {"", "0", "G", "-1", "8X", "8GB2", "1.5G", "99999999999999999999", "20000000T"})
    EXPECT_FALSE(parse_byte_size(bad).has_value()) << bad;
}

TEST(Result, CarriesValueOrNegativeErrno) {
  Result<int> ok(5);
  EXPECT_TRUE(ok.ok());
  EXPECT_EQ(ok.value(), 5);
  Result<int> bad(Error(ENOMEM));
  EXPECT_FALSE(bad.ok());
  EXPECT_EQ(bad.error(), -ENOMEM);
  EXPECT_EQ(status_of(-EINVAL).error(), -EINVAL);
  EXPECT_TRUE(status_of(3).ok());
}

TEST(Log, ParsesLevels) {
  log::Level l;
  EXPECT_TRUE(log::parse_level("debug", &l));
  EXPECT_EQ(l, log::Level::kDebug);
  EXPECT_TRUE(log::parse_level("error", &l));
  EXPECT_FALSE(log::parse_level("verbose", &l));
  EXPECT_FALSE(log::parse_level("", &l));
}

}  // namespace
}  // namespace dune
