#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <string>

#include "base/log.h"
#include "runtime/backend_choice.h"
#include "runtime/syscall_fastpath.h"

namespace dune {
namespace {

TEST(BackendChoice, ParsesTheThreeNames) {
  EXPECT_EQ(parse_backend("auto"), BackendSetting::kAuto);
  EXPECT_EQ(parse_backend("kvm"), BackendSetting::kKvm);
  EXPECT_EQ(parse_backend("module"), BackendSetting::kModule);
}

TEST(BackendChoice, RejectsEverythingElse) {
  for (const char* bad : {"", "KVM", "kvm ", "dune", "modules", "1"}) EXPECT_FALSE(parse_backend(bad)) << bad;
  EXPECT_FALSE(parse_backend(nullptr));
}

// Runs choose_backend with DUNE_BACKEND and DUNE_MODULE_DEVICE set, at a log
// level, and keeps what it logged. No device is opened but the module's path.
class Choosing : public ::testing::Test {
 protected:
  void SetUp() override {
    log_ = std::tmpfile();
    ASSERT_NE(log_, nullptr);
    log::set_fd(fileno(log_));
    // Proof that /dev/kvm is not opened while choosing: it names no device.
    setenv("DUNE_KVM_DEVICE", "/nonexistent/kvm", 1);
    const char* dir = std::getenv("TMPDIR");
    regular_file_ = std::string(dir && *dir ? dir : "/tmp") + "/dune-not-a-module-XXXXXX";
    int fd = mkstemp(regular_file_.data());
    ASSERT_GE(fd, 0);
    close(fd);
  }
  void TearDown() override {
    log::set_fd(2);
    log::set_level(log::Level::kWarn);
    std::fclose(log_);
    unlink(regular_file_.c_str());
    for (const char* v : {"DUNE_BACKEND", "DUNE_MODULE_DEVICE", "DUNE_KVM_DEVICE"}) unsetenv(v);
  }

  Result<BackendChoice> choose(const char* backend, const char* module_device,
                               log::Level level = log::Level::kWarn) {
    if (backend)
      setenv("DUNE_BACKEND", backend, 1);
    else
      unsetenv("DUNE_BACKEND");
    setenv("DUNE_MODULE_DEVICE", module_device, 1);
    log::set_level(level);
    return choose_backend();
  }

  std::string logged() {
    std::fflush(log_);
    std::string text;
    std::rewind(log_);
    char buf[512];
    size_t n;
    while ((n = std::fread(buf, 1, sizeof buf, log_)) > 0) text.append(buf, n);
    return text;
  }

  static size_t lines(const std::string& s) {
    size_t n = 0;
    for (char c : s) n += c == '\n';
    return n;
  }

  std::FILE* log_ = nullptr;
  std::string regular_file_;
};

TEST_F(Choosing, AutoWithoutTheModuleUsesKvmSilently) {
  auto c = choose(nullptr, "/nonexistent/dune");
  ASSERT_TRUE(c);
  EXPECT_EQ(c->backend, Backend::kKvm);
  EXPECT_FALSE(c->module);
  EXPECT_EQ(logged(), "");
}

TEST_F(Choosing, AutoSaysWhichAtInfoLevel) {
  auto c = choose("auto", "/nonexistent/dune", log::Level::kInfo);
  ASSERT_TRUE(c);
  EXPECT_EQ(c->backend, Backend::kKvm);
  std::string text = logged();
  EXPECT_EQ(lines(text), 1u) << text;
  EXPECT_NE(text.find("backend: /nonexistent/kvm (/nonexistent/dune does not exist)"), std::string::npos) << text;
}

TEST_F(Choosing, AutoPassesOverAFileThatIsNotTheModule) {
  auto c = choose(nullptr, regular_file_.c_str(), log::Level::kInfo);
  ASSERT_TRUE(c);
  EXPECT_EQ(c->backend, Backend::kKvm);
  std::string text = logged();
  EXPECT_EQ(lines(text), 1u) << text;
  EXPECT_NE(text.find(regular_file_ + " is not the Dune kernel module's device"), std::string::npos) << text;
}

TEST_F(Choosing, ForcedModuleThatIsMissingIsOneError) {
  auto c = choose("module", "/nonexistent/dune");
  EXPECT_EQ(c.error(), -ENODEV);
  std::string text = logged();
  EXPECT_EQ(lines(text), 1u) << text;
  EXPECT_NE(text.find("cannot enter Dune mode: DUNE_BACKEND=module, but /nonexistent/dune does not exist (the Dune "
                      "kernel module is not loaded); unset DUNE_BACKEND to use /dev/kvm"),
            std::string::npos)
      << text;
}

TEST_F(Choosing, ForcedModuleThatIsNotTheModuleSaysSo) {
  auto c = choose("module", regular_file_.c_str());
  EXPECT_EQ(c.error(), -ENOTSUP);
  std::string text = logged();
  EXPECT_EQ(lines(text), 1u) << text;
  EXPECT_NE(text.find("cannot enter Dune mode: " + regular_file_ + " is not the Dune kernel module's device"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("unset DUNE_BACKEND to use /dev/kvm"), std::string::npos) << text;
}

TEST_F(Choosing, ForcedKvmLeavesTheModuleAlone) {
  auto c = choose("kvm", regular_file_.c_str(), log::Level::kInfo);
  ASSERT_TRUE(c);
  EXPECT_EQ(c->backend, Backend::kKvm);
  std::string text = logged();
  EXPECT_EQ(text.find(regular_file_), std::string::npos) << text;
  EXPECT_NE(text.find("backend: /nonexistent/kvm (DUNE_BACKEND=kvm)"), std::string::npos) << text;
}

TEST_F(Choosing, ABadValueIsOneWarningAndAuto) {
  auto c = choose("dune", "/nonexistent/dune");
  ASSERT_TRUE(c);
  EXPECT_EQ(c->backend, Backend::kKvm);
  std::string text = logged();
  EXPECT_EQ(lines(text), 1u) << text;
  EXPECT_NE(text.find("DUNE_BACKEND='dune'"), std::string::npos) << text;
}

TEST_F(Choosing, ExpectedBackendSaysNothing) {
  log::set_level(log::Level::kDebug);
  setenv("DUNE_MODULE_DEVICE", "/nonexistent/dune", 1);
  setenv("DUNE_BACKEND", "module", 1);
  EXPECT_EQ(expected_backend(), Backend::kModule);  // forced: the module, usable or not
  setenv("DUNE_BACKEND", "auto", 1);
  EXPECT_EQ(expected_backend(), Backend::kKvm);
  setenv("DUNE_MODULE_DEVICE", regular_file_.c_str(), 1);
  EXPECT_EQ(expected_backend(), Backend::kKvm);
  setenv("DUNE_BACKEND", "bad", 1);
  EXPECT_EQ(expected_backend(), Backend::kKvm);
  EXPECT_EQ(logged(), "");
}

}  // namespace
}  // namespace dune

TEST(SyscallFastpathKnob, ParsesZeroAndOneOnly) {
  EXPECT_EQ(dune::parse_fastpath_knob("1"), std::optional<bool>(true));
  EXPECT_EQ(dune::parse_fastpath_knob("0"), std::optional<bool>(false));
  for (const char* bad : {"", "yes", "2", "01", " 1", "true"})
    EXPECT_FALSE(dune::parse_fastpath_knob(bad).has_value()) << bad;
}
