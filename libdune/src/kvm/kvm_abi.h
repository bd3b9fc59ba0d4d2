// kvm_abi.h - the KVM ioctl ABI as seen from C++, with the layouts fixed.
//
// Debian 12's <linux/kvm.h> declares the variable-length arrays of kvm_cpuid2,
// kvm_msrs and kvm_xsave with __DECLARE_FLEX_ARRAY, which in C++ adds an empty
// struct: sizeof(kvm_cpuid2) becomes 12 instead of 8 (kvm_xsave 4100, not
// 4096), the entries move, and the ioctl numbers (which encode the size)
// change, so KVM rejects them with EINVAL. The structures and ioctl numbers
// below have the C layout; never use the header's for these.
#pragma once

#include <linux/kvm.h>

#include <cstdint>

namespace dune::kvm {

// Header of a kvm_cpuid2 / kvm_msrs: a count and padding, entries follow.
struct ArrayHeader {
  uint32_t count;
  uint32_t pad;
};
static_assert(sizeof(ArrayHeader) == 8);

constexpr unsigned long kSetCpuid2 = _IOW(KVMIO, 0x90, ArrayHeader);
constexpr unsigned long kGetSupportedCpuid = _IOWR(KVMIO, 0x05, ArrayHeader);
constexpr unsigned long kSetMsrs = _IOW(KVMIO, 0x89, ArrayHeader);
constexpr unsigned long kGetMsrs = _IOWR(KVMIO, 0x88, ArrayHeader);

// The fixed part of struct kvm_xsave.
struct XsaveRegion {
  uint32_t region[1024];
};
static_assert(sizeof(XsaveRegion) == 4096);
constexpr unsigned long kGetXsave = _IOR(KVMIO, 0xa4, XsaveRegion);
constexpr unsigned long kSetXsave = _IOW(KVMIO, 0xa5, XsaveRegion);
constexpr unsigned long kGetXsave2 = _IOR(KVMIO, 0xcf, XsaveRegion);

constexpr int kMaxCpuidEntries = 256;

struct CpuidTable {
  ArrayHeader header{};
  kvm_cpuid_entry2 entries[kMaxCpuidEntries];
};

template <int N>
struct MsrList {
  ArrayHeader header{};
  kvm_msr_entry entries[N];
};

// Newer than Debian 12's headers.
constexpr int kCapDisableQuirks2 = 213;
constexpr int kCapMemoryFaultInfo = 232;
// The exit for an access the host refuses (KVM_CAP_MEMORY_FAULT_INFO; the Dune
// module's DUNE_RUN_EXIT_MEMORY_FAULT), and what it reports over the exit union
// of kvm_run (at kvm_run.mmio).
constexpr uint32_t kExitMemoryFault = 39;
struct MemoryFaultExit {
  uint64_t flags;
  uint64_t gpa;
  uint64_t size;
};
// In flags: the access was a write (the module's DUNE_MEMORY_FAULT_WRITE;
// upstream KVM defines no such bit, so its faults read as reads).
constexpr uint64_t kMemoryFaultWrite = 1;
constexpr uint64_t kQuirkSlotZapAll = 1ull << 7;

// MSR numbers.
constexpr uint32_t kMsrEfer = 0xc0000080;
constexpr uint32_t kMsrStar = 0xc0000081;
constexpr uint32_t kMsrLstar = 0xc0000082;
constexpr uint32_t kMsrCstar = 0xc0000083;
constexpr uint32_t kMsrSyscallMask = 0xc0000084;
constexpr uint32_t kMsrFsBase = 0xc0000100;
constexpr uint32_t kMsrGsBase = 0xc0000101;
constexpr uint32_t kMsrKernelGsBase = 0xc0000102;
constexpr uint32_t kMsrTscAux = 0xc0000103;
constexpr uint32_t kMsrTsc = 0x10;
constexpr uint32_t kMsrPat = 0x277;

}  // namespace dune::kvm
