// mapping.h - an owned anonymous or shared memory mapping, unmapped once.
#pragma once

#include <sys/mman.h>

#include <cstddef>
#include <cstdint>
#include <utility>

#include "base/own_mappings.h"
#include "base/raw_syscall.h"
#include "base/result.h"

namespace dune {

class Mapping {
 public:
  Mapping() = default;
  // Takes ownership of [addr, addr + len), which the library mapped.
  Mapping(void* addr, size_t len) : addr_(addr), len_(len) {
    own_mappings::add(start(), start() + len);
  }
  Mapping(Mapping&& o) noexcept
      : addr_(std::exchange(o.addr_, nullptr)), len_(std::exchange(o.len_, 0)) {}
  Mapping& operator=(Mapping&& o) noexcept {
    if (this != &o) {
      reset();
      addr_ = std::exchange(o.addr_, nullptr);
      len_ = std::exchange(o.len_, 0);
    }
    return *this;
  }
  Mapping(const Mapping&) = delete;
  Mapping& operator=(const Mapping&) = delete;
  ~Mapping() { reset(); }

  // Private anonymous read-write memory.
  static Result<Mapping> anonymous(size_t len, int extra_flags = 0) {
    long r = sys::mmap(nullptr, len, PROT_READ | PROT_WRITE,
                       MAP_PRIVATE | MAP_ANONYMOUS | extra_flags, -1, 0);
    if (sys::is_error(r)) return Error(static_cast<int>(r));
    return Mapping(reinterpret_cast<void*>(r), len);
  }
  // A shared mapping of fd (the KVM vCPU's run structure).
  static Result<Mapping> shared_fd(int fd, size_t len) {
    long r = sys::mmap(nullptr, len, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    if (sys::is_error(r)) return Error(static_cast<int>(r));
    return Mapping(reinterpret_cast<void*>(r), len);
  }

  void reset() {
    if (addr_) {
      own_mappings::forget(start());
      sys::munmap(addr_, len_);
    }
    addr_ = nullptr;
    len_ = 0;
  }
  // Gives up ownership; the caller unmaps (the range stays recorded as the
  // library's until then: it is only released to be unmapped).
  void* release() {
    len_ = 0;
    return std::exchange(addr_, nullptr);
  }
  void* get() const { return addr_; }
  template <typename T>
  T* as() const { return static_cast<T*>(addr_); }
  uint64_t start() const { return reinterpret_cast<uint64_t>(addr_); }
  uint64_t end() const { return start() + len_; }
  size_t size() const { return len_; }

 private:
  void* addr_ = nullptr;
  size_t len_ = 0;
};

}  // namespace dune
