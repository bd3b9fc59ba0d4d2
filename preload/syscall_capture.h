// syscall_capture.h - the memory a traced syscall's line needs, copied while
// the thread is stopped after the call (the string it saw, the buffer it
// filled), into the record sent to dunetrace.
//
// One plan serves both sides: the shim runs it (capture), dunetrace's decoders
// read what it produced (blobs named by argument). It allocates nothing: the
// shim calls it on the host side of a guest thread.
#pragma once

#include <cstddef>
#include <cstdint>

namespace dune::trace_wire {

enum CaptureStatus : uint8_t {
  kCapOk = 0,
  kCapFault = 1,    // the address could not be read: the line shows it as a number
  kCapPartial = 2,  // a string longer than the room for it (no NUL in it): "..." follows
};

enum class CaptureKind : uint8_t {
  kPath,       // a NUL-terminated path, up to kPathMax
  kString,     // a NUL-terminated string, up to the -s limit (+1 to know there was more)
  kBytes,      // len bytes (the -s limit at most)
  kIovec,      // an iovec array of len elements (at most the -s limit of them), and each
               // element's bytes (at most the limit; with a byte total, only that many in all)
  kStrings,    // a NULL-terminated array of strings (argv): at most the limit of them
  kCount,      // a NULL-terminated pointer array (envp): only the number of its pointers, and
               // of the strings the tracer put in the environment (two uint32_t)
  kDirents,    // a getdents64 buffer of len bytes: only the number of entries in it
  kFrameMask,  // rt_sigreturn: the signal mask in the frame at the stack pointer (8 bytes)
  kMsghdr,     // a struct msghdr (its blob), and what it points to: the address (kMsgNameArg),
               // the iovec array and its bytes (kMsgIovArg, as kIovec; total as there), the
               // control data (kMsgControlArg)
};

// Blobs of what a msghdr points to carry these in place of an argument index.
constexpr uint8_t kMsgNameArg = 7;
constexpr uint8_t kMsgIovArg = 8;
constexpr uint8_t kMsgControlArg = 9;
constexpr uint8_t kMaxBlobArg = 9;

struct CaptureItem {
  uint8_t arg;
  CaptureKind kind;
  uint32_t len;    // kBytes, kIovec (elements), kDirents: as above
  uint64_t total;  // kIovec: the byte total the call moved (~0: each element whole)
};

constexpr int kMaxCaptureItems = 4;
constexpr uint32_t kPathMax = 4096;
// Room for a record's blobs: a path, a few strings of -s bytes.
constexpr size_t kCaptureRoom = 16384;

// Each blob in the area: this header, then len bytes.
struct BlobHeader {
  uint8_t arg;
  uint8_t sub;  // 0: the argument's own memory; i+1: element i (iovec, argv)
  uint8_t status;
  uint8_t when;  // kAfterCall, or kAtEntry: copied before the call ran (an in-out argument's "in")
  uint32_t len;
};
constexpr uint8_t kAfterCall = 0;
constexpr uint8_t kAtEntry = 1;

// What to copy for syscall nr with these arguments and result; returns the
// number of items (0: nothing). limit: the -s string limit.
int capture_plan(long nr, const uint64_t (&a)[6], int64_t ret, uint32_t limit,
                 CaptureItem (&out)[kMaxCaptureItems]);

// What to copy of syscall nr's arguments before it runs: the "in" of
// arguments the call changes (select's sets, a socklen_t the kernel
// rewrites). Only for the calls wants_entry names (the tracer asks the
// library for their entries: dune_set_syscall_entries).
bool wants_entry(long nr);
int entry_plan(long nr, const uint64_t (&a)[6], CaptureItem (&out)[kMaxCaptureItems]);

// Whether a successful call's result is a new descriptor: -y names its file,
// and the line shows it as one.
bool returns_fd(long nr, const uint64_t (&a)[6]);

// Reads guest memory; false where it cannot.
using CaptureReader = bool (*)(uint64_t addr, void* dst, size_t n);

// Where rt_sigreturn finds the mask it restores: the ucontext at the stack
// pointer of the syscall (the handler's return popped the frame's return
// address), its uc_sigmask after uc_flags, uc_link, uc_stack and uc_mcontext.
constexpr uint64_t kFrameMaskOffset = 8 + 8 + 24 + 256;

// Runs the plan, writing blobs to area (room bytes); returns the bytes used.
// sp: the stack pointer at the syscall (kFrameMask).
size_t run_capture(const CaptureItem* items, int n, const uint64_t (&a)[6], uint32_t limit, CaptureReader read,
                   uint8_t* area, size_t room, uint64_t sp = 0);
// run_capture for an entry plan: its blobs say kAtEntry.
size_t run_entry_capture(const CaptureItem* items, int n, const uint64_t (&a)[6], CaptureReader read, uint8_t* area,
                         size_t room);

}  // namespace dune::trace_wire
