// The kernel-module backend's pieces that need no /dev/dune: the request
// numbers, the capability answers, the checks of what the device says, and
// opening paths that are not the device.
#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdlib>
#include <string>

#include "abi_numbers_in_c.h"
#include "kvm/flavour.h"
#include "kvm/ioctl_table.h"
#include "kvm/kvm_device.h"
#include "kvm/module_capabilities.h"
#include "kvm/module_device.h"

namespace dune {
namespace {

void expect_numbers(const IoctlTable& t, const abi_numbers& c) {
  struct Pair {
    unsigned long IoctlTable::*ours;
    const unsigned long abi_numbers::*in_c;
    const char* name;
  };
  static constexpr Pair kPairs[] = {
      {&IoctlTable::set_memory_region, &abi_numbers::set_memory_region, "set_memory_region"},
      {&IoctlTable::create_vcpu, &abi_numbers::create_vcpu, "create_vcpu"},
      {&IoctlTable::run, &abi_numbers::run, "run"},
      {&IoctlTable::get_regs, &abi_numbers::get_regs, "get_regs"},
      {&IoctlTable::set_regs, &abi_numbers::set_regs, "set_regs"},
      {&IoctlTable::get_sregs, &abi_numbers::get_sregs, "get_sregs"},
      {&IoctlTable::set_sregs, &abi_numbers::set_sregs, "set_sregs"},
      {&IoctlTable::get_msrs, &abi_numbers::get_msrs, "get_msrs"},
      {&IoctlTable::set_msrs, &abi_numbers::set_msrs, "set_msrs"},
      {&IoctlTable::set_xcrs, &abi_numbers::set_xcrs, "set_xcrs"},
      {&IoctlTable::get_xsave, &abi_numbers::get_xsave, "get_xsave"},
      {&IoctlTable::set_xsave, &abi_numbers::set_xsave, "set_xsave"},
  };
  for (const Pair& p : kPairs) EXPECT_EQ(t.*p.ours, c.*p.in_c) << p.name;
}

TEST(IoctlTable, ModuleNumbersAreTheOnesTheModuleComputesInC) {
  expect_numbers(ioctl_table(Backend::kModule), module_numbers_in_c);
}

TEST(IoctlTable, KvmNumbersAreTheOnesKvmComputesInC) { expect_numbers(ioctl_table(Backend::kKvm), kvm_numbers_in_c); }

TEST(IoctlTable, TheModuleLacksExactlyWhatItNeedsNot) {
  const IoctlTable& m = ioctl_table(Backend::kModule);
  for (unsigned long absent : {m.check_extension, m.enable_cap, m.get_xsave2, m.set_cpuid2, m.set_device_attr,
                               m.get_fpu, m.set_fpu})
    EXPECT_EQ(absent, 0u);
  const IoctlTable& k = ioctl_table(Backend::kKvm);
  for (unsigned long present : {k.check_extension, k.enable_cap, k.get_xsave2, k.set_cpuid2, k.set_device_attr,
                                k.get_fpu, k.set_fpu})
    EXPECT_NE(present, 0u);
}

dune_info sample_info() {
  dune_info info{};
  info.abi_version = DUNE_ABI_VERSION;
  info.max_slots = 509;
  info.run_size = 4096;
  info.xsave_size = 4096;
  info.host_xcr0 = 7;
  info.phys_bits = 46;
  return info;
}

TEST(ModuleCapability, AnswersFromTheModulesFacts) {
  dune_info info = sample_info();
  EXPECT_EQ(module_capability(info, KVM_CAP_NR_MEMSLOTS), 509);
  EXPECT_EQ(module_capability(info, KVM_CAP_XSAVE2), 4096);
  EXPECT_EQ(module_capability(info, KVM_CAP_XSAVE), 1);
  EXPECT_EQ(module_capability(info, KVM_CAP_SYNC_REGS) & KVM_SYNC_X86_REGS, KVM_SYNC_X86_REGS);
  EXPECT_GT(module_capability(info, KVM_CAP_IMMEDIATE_EXIT), 0);
  EXPECT_GT(module_capability(info, kvm::kCapMemoryFaultInfo), 0);
  info.max_slots = 32;
  info.xsave_size = 8192;
  EXPECT_EQ(module_capability(info, KVM_CAP_NR_MEMSLOTS), 32);
  EXPECT_EQ(module_capability(info, KVM_CAP_XSAVE2), 8192);
}

TEST(ModuleCapability, HasNoQuirksAndNoCpuidTable) {
  dune_info info = sample_info();
  EXPECT_EQ(module_capability(info, kvm::kCapDisableQuirks2), 0);
  EXPECT_EQ(module_capability(info, KVM_CAP_EXT_CPUID), 0);
  EXPECT_EQ(module_capability(info, KVM_CAP_VCPU_ATTRIBUTES), 0);
}

TEST(ModuleChecks, AcceptsItsOwnVersion) {
  DeviceProblem why;
  EXPECT_TRUE(check_module_version("/dev/dune", DUNE_ABI_VERSION, &why));
  EXPECT_TRUE(check_module_info("/dev/dune", sample_info(), &why));
  EXPECT_STREQ(why.text, "");
}

TEST(ModuleChecks, AnotherVersionIsOneClearSentence) {
  DeviceProblem why;
  Status s = check_module_version("/dev/dune", 2, &why);
  EXPECT_EQ(s.error(), -ENOTSUP);
  EXPECT_STREQ(why.text, "/dev/dune speaks ABI version 2, this libdune needs 1");
}

TEST(ModuleChecks, AnotherDeviceIsNamedAsSuch) {
  DeviceProblem why;
  EXPECT_EQ(check_module_version("/dev/null", -ENOTTY, &why).error(), -ENOTSUP);
  EXPECT_NE(std::string(why.text).find("/dev/null is not the Dune kernel module's device"), std::string::npos)
      << why.text;
}

TEST(ModuleChecks, RefusesFactsItCannotUse) {
  DeviceProblem why;
  dune_info info = sample_info();
  info.abi_version = 3;
  EXPECT_EQ(check_module_info("/dev/dune", info, &why).error(), -ENOTSUP);
  EXPECT_STREQ(why.text, "/dev/dune speaks ABI version 3, this libdune needs 1");
  info = sample_info();
  info.run_size = 64;
  EXPECT_EQ(check_module_info("/dev/dune", info, &why).error(), -ENOTSUP);
  EXPECT_NE(std::string(why.text).find("run page of 64 bytes"), std::string::npos) << why.text;
  info = sample_info();
  info.max_slots = 0;
  EXPECT_EQ(check_module_info("/dev/dune", info, &why).error(), -ENOTSUP);
}

// A regular file in the temporary directory, removed at the end.
class TempFile {
 public:
  TempFile() {
    const char* dir = std::getenv("TMPDIR");
    path_ = std::string(dir && *dir ? dir : "/tmp") + "/dune-module-XXXXXX";
    int fd = mkstemp(path_.data());
    if (fd >= 0) close(fd);
  }
  ~TempFile() { unlink(path_.c_str()); }
  const char* path() const { return path_.c_str(); }

 private:
  std::string path_;
};

TEST(OpenModuleVm, AMissingPathIsNoDevice) {
  DeviceProblem why;
  auto vm = open_module_vm("/nonexistent/dune", &why);
  EXPECT_EQ(vm.error(), -ENODEV);
  EXPECT_STREQ(why.text, "/nonexistent/dune does not exist");
}

TEST(OpenModuleVm, ARegularFileIsNotTheModule) {
  TempFile f;
  DeviceProblem why;
  auto vm = open_module_vm(f.path(), &why);
  EXPECT_EQ(vm.error(), -ENOTSUP);
  EXPECT_NE(std::string(why.text).find("is not the Dune kernel module's device"), std::string::npos) << why.text;
}

TEST(OpenModuleVm, ADirectoryDoesNotOpen) {
  DeviceProblem why;
  auto vm = open_module_vm("/", &why);
  EXPECT_EQ(vm.error(), -EISDIR);
  EXPECT_NE(std::string(why.text).find("opening / failed"), std::string::npos) << why.text;
}

TEST(KvmDeviceOpenModule, SaysWhyAndKeepsNothing) {
  TempFile f;
  DeviceProblem why;
  auto dev = KvmDevice::open_module(f.path(), &why);
  EXPECT_EQ(dev.error(), -ENOTSUP);
  EXPECT_NE(std::string(why.text).find(f.path()), std::string::npos) << why.text;
  std::string long_path(300, 'd');
  EXPECT_EQ(KvmDevice::open_module(long_path.c_str(), &why).error(), -ENAMETOOLONG);
}

TEST(ModuleFlavour, IsHardwareVtxWhateverDuneFlavourSays) {
  setenv("DUNE_FLAVOUR", "pvm", 1);
  FlavourTraits t = traits_of_backend(Backend::kModule);
  EXPECT_EQ(t.flavour, DUNE_FLAVOUR_MODULE);
  EXPECT_TRUE(t.syscall_lands_in_ring0);
  EXPECT_TRUE(t.return_by_sysret());
  EXPECT_FALSE(t.host_faults_as_mmio);
  EXPECT_EQ(traits_of_backend(Backend::kKvm).flavour, DUNE_FLAVOUR_PVM);
  unsetenv("DUNE_FLAVOUR");
  EXPECT_STREQ(dune_flavour_name(DUNE_FLAVOUR_MODULE), "dune-module");
}

}  // namespace
}  // namespace dune
