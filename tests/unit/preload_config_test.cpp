#include <gtest/gtest.h>

#include <map>
#include <string>

#include "preload_config.h"

namespace dune {
namespace {

// The environment the config is read from: a table, so tests set exactly what they mean.
std::map<std::string, std::string> g_env;
const char* table_getenv(const char* name) {
  auto it = g_env.find(name);
  return it == g_env.end() ? nullptr : it->second.c_str();
}

PreloadConfig read(std::map<std::string, std::string> env) {
  g_env = std::move(env);
  return read_preload_config(table_getenv);
}

TEST(PreloadConfig, DefaultsWhenNothingIsSet) {
  PreloadConfig c = read({});
  EXPECT_FALSE(c.disable);
  EXPECT_FALSE(c.strict);
  EXPECT_FALSE(c.help);
  EXPECT_TRUE(c.warnings.empty());
}

TEST(PreloadConfig, FlagsTakeOneAndZero) {
  PreloadConfig c = read({{"DUNE_DISABLE", "1"}, {"DUNE_STRICT", "1"}, {"DUNE_HELP", "0"}});
  EXPECT_TRUE(c.disable);
  EXPECT_TRUE(c.strict);
  EXPECT_FALSE(c.help);
  EXPECT_TRUE(c.warnings.empty());
  EXPECT_FALSE(read({{"DUNE_STRICT", ""}}).strict);
}

TEST(PreloadConfig, BadValueIsOneWarningNamingTheKnobAndTheDefault) {
  PreloadConfig c = read({{"DUNE_STRICT", "yes"}, {"DUNE_DISABLE", "2"}});
  EXPECT_FALSE(c.strict);
  EXPECT_FALSE(c.disable);
  ASSERT_EQ(c.warnings.size(), 2u);
  bool strict_named = false, disable_named = false;
  for (const std::string& w : c.warnings) {
    strict_named |= w.find("DUNE_STRICT='yes'") != std::string::npos;
    disable_named |= w.find("DUNE_DISABLE='2'") != std::string::npos;
    EXPECT_NE(w.find("using 0"), std::string::npos) << w;
  }
  EXPECT_TRUE(strict_named);
  EXPECT_TRUE(disable_named);
}

TEST(PreloadConfig, HelpNamesEveryKnob) {
  std::string help = preload_help();
  for (const char* knob : {"DUNE_DISABLE", "DUNE_STRICT", "DUNE_LOG", "DUNE_LOG_FILE", "DUNE_STATS",
                           "DUNE_MEM_BUDGET", "DUNE_BACKEND", "DUNE_MODULE_DEVICE", "DUNE_HELP"})
    EXPECT_NE(help.find(knob), std::string::npos) << knob;
}

}  // namespace
}  // namespace dune
