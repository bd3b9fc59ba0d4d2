// sandbox_state.h - what a thread in a sandbox (dune_jump_to_user) carries.
#pragma once

#include <cstdint>

#include "kvm/kvm_abi.h"

namespace dune {

struct SandboxState {
  bool in_run = false;  // between dune_jump_to_user and dune_ret_from_user
  bool active = false;  // running the sandbox's code, not a launcher handler
  bool born = false;    // created by the sandbox: no launcher to return to
  uint32_t depth = 0;   // launcher handlers running for it
  uint64_t root_gpa = 0;        // the sandbox's page table (CR3)
  uint64_t launcher_stack = 0;  // top of the stack launcher handlers run on
  uint64_t launcher_fs = 0;     // the launcher's FS base, for its handlers
  uint64_t sandbox_fs = 0;      // the sandbox's, while a handler runs
  uint64_t stack_base = 0, stack_len = 0;  // a handler stack the library mapped (born threads)
  kvm_regs launcher{};  // dune_jump_to_user's caller at its hypercall
  void* launcher_xsave = nullptr;  // and its FPU state (host arena)
};

}  // namespace dune
