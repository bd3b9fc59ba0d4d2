#include <gtest/gtest.h>

#include "runtime/backend_choice.h"

namespace dune {
namespace {

TEST(BackendChoice, ParsesTheThreeNames) {
  EXPECT_EQ(parse_backend("auto"), Backend::kAuto);
  EXPECT_EQ(parse_backend("kvm"), Backend::kKvm);
  EXPECT_EQ(parse_backend("module"), Backend::kModule);
}

TEST(BackendChoice, RejectsEverythingElse) {
  for (const char* bad : {"", "KVM", "kvm ", "dune", "modules", "1"}) EXPECT_FALSE(parse_backend(bad)) << bad;
  EXPECT_FALSE(parse_backend(nullptr));
}

}  // namespace
}  // namespace dune
