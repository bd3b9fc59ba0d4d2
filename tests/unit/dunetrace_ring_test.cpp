// The shared-memory ring between the shim and dunetrace (preload/trace_ring.h):
// order, a full ring, records too large, writers on several threads and in a
// forked child, a slot whose writer died, and a scribbled ring.
#include <gtest/gtest.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstring>
#include <thread>
#include <vector>

#include "ring_reader.h"
#include "trace_ring.h"

using namespace dune::trace_wire;

namespace {

// A ring in shared anonymous memory (shared with a forked child too).
struct TestRing {
  void* base;
  TestRing() {
    base = mmap(nullptr, kRingBytes, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    ring_init(base, kVersion);
  }
  ~TestRing() { munmap(base, kRingBytes); }
};

uint64_t take_value(void* base, uint64_t& tail, RingTake* t) {
  uint8_t out[kRingPayload];
  uint32_t len = 0;
  *t = ring_take(base, tail, out, &len);
  uint64_t v = 0;
  if (*t == RingTake::kRecord && len == sizeof v) std::memcpy(&v, out, sizeof v);
  return v;
}

TEST(DunetraceRing, InOrderUntilFullThenFreeAgain) {
  TestRing r;
  ASSERT_TRUE(ring_valid(r.base, kVersion));
  for (uint64_t i = 0; i < kRingSlots; ++i) ASSERT_EQ(ring_put(r.base, &i, sizeof i), RingPut::kDone) << i;
  uint64_t extra = 99;
  EXPECT_EQ(ring_put(r.base, &extra, sizeof extra), RingPut::kFull);
  uint64_t tail = 0;
  RingTake t;
  EXPECT_EQ(take_value(r.base, tail, &t), 0u);
  EXPECT_EQ(t, RingTake::kRecord);
  // One slot free: one more fits, at the end.
  EXPECT_EQ(ring_put(r.base, &extra, sizeof extra), RingPut::kDone);
  for (uint64_t i = 1; i < kRingSlots; ++i) ASSERT_EQ(take_value(r.base, tail, &t), i);
  EXPECT_EQ(take_value(r.base, tail, &t), 99u);
  take_value(r.base, tail, &t);
  EXPECT_EQ(t, RingTake::kEmpty);
}

TEST(DunetraceRing, TooLargeIsRefused) {
  TestRing r;
  std::vector<uint8_t> big(kRingPayload + 1, 7);
  EXPECT_EQ(ring_put(r.base, big.data(), big.size()), RingPut::kTooBig);
  EXPECT_EQ(ring_put(r.base, big.data(), kRingPayload), RingPut::kDone);
}

// Four threads and a forked child write; every record arrives once, and each
// writer's records in its own order.
TEST(DunetraceRing, ConcurrentWritersKeepEachOnesOrder) {
  TestRing r;
  constexpr uint64_t kPerWriter = 20000;
  constexpr int kThreads = 4;
  auto write_all = [&](uint64_t who) {
    for (uint64_t i = 0; i < kPerWriter; ++i) {
      uint64_t v = who << 32 | i;
      while (ring_put(r.base, &v, sizeof v) == RingPut::kFull) std::this_thread::yield();
    }
  };
  pid_t child = fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    write_all(kThreads);
    _exit(0);
  }
  std::vector<std::thread> writers;
  for (int w = 0; w < kThreads; ++w) writers.emplace_back(write_all, w);
  std::vector<uint64_t> next(kThreads + 1, 0);
  uint64_t tail = 0, got = 0;
  while (got < kPerWriter * (kThreads + 1)) {
    RingTake t;
    uint64_t v = take_value(r.base, tail, &t);
    if (t != RingTake::kRecord) {
      std::this_thread::yield();
      continue;
    }
    uint64_t who = v >> 32;
    ASSERT_LE(who, static_cast<uint64_t>(kThreads));
    ASSERT_EQ(v & 0xffffffff, next[who]) << "writer " << who;
    ++next[who];
    ++got;
  }
  for (auto& w : writers) w.join();
  int status = 0;
  ASSERT_EQ(waitpid(child, &status, 0), child);
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
}

// A claim never published (its writer died) holds the reader up, and only
// the final drain passes it; what came after it is not lost.
TEST(DunetraceRing, DeadWritersClaimIsPassedAtTheEnd) {
  TestRing r;
  auto* h = static_cast<RingHeader*>(r.base);
  uint64_t a = 1, b = 2;
  ASSERT_EQ(ring_put(r.base, &a, sizeof a), RingPut::kDone);
  h->head.fetch_add(1);  // claimed, never published
  ASSERT_EQ(ring_put(r.base, &b, sizeof b), RingPut::kDone);
  uint64_t tail = 0;
  RingTake t;
  EXPECT_EQ(take_value(r.base, tail, &t), 1u);
  take_value(r.base, tail, &t);
  EXPECT_EQ(t, RingTake::kBusy);
  ring_skip(r.base, tail);
  EXPECT_EQ(take_value(r.base, tail, &t), 2u);
  EXPECT_EQ(t, RingTake::kRecord);
}

// dunetrace's reader: whole records only, a scribbled length dropped, a
// scribbled header refused, a scribbled head not a hang.
TEST(DunetraceRing, ReaderChecksWhatTheProgramCouldScribble) {
  int fd = memfd_create("ring-test", MFD_CLOEXEC);
  ASSERT_GE(fd, 0);
  ASSERT_EQ(ftruncate(fd, kRingBytes), 0);
  void* base = mmap(nullptr, kRingBytes, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
  ASSERT_NE(base, MAP_FAILED);
  EXPECT_EQ(dunetrace::RingReader::attach(fd), nullptr);  // zeroes: not a ring
  ring_init(base, kVersion);
  auto reader = dunetrace::RingReader::attach(fd);
  ASSERT_NE(reader, nullptr);

  struct {
    TraceRecord rec;
    char area[5];
  } msg{};
  msg.rec.event.kind = DUNE_EV_SYSCALL;
  msg.rec.event.u.syscall.nr = 39;
  msg.rec.capture_len = 5;
  std::memcpy(msg.area, "hello", 5);
  const size_t whole = sizeof msg.rec + 5;
  ASSERT_EQ(ring_put(base, &msg, whole), RingPut::kDone);
  ASSERT_EQ(ring_put(base, &msg, sizeof msg.rec), RingPut::kDone);  // capture_len says more than came
  ASSERT_EQ(ring_put(base, &msg, whole), RingPut::kDone);
  ring_slots(base)[2].len = kRingSlotSize * 4;  // a length past the slot
  ASSERT_EQ(ring_put(base, &msg, whole), RingPut::kDone);

  std::vector<std::string> seen;
  auto fn = [&](const TraceRecord& rec, std::string_view captures) {
    EXPECT_EQ(rec.event.u.syscall.nr, 39u);
    seen.emplace_back(captures);
  };
  EXPECT_EQ(reader->drain(fn, 0), 2u);
  EXPECT_EQ(seen, (std::vector<std::string>{"hello", "hello"}));
  static_cast<RingHeader*>(base)->head.store(~0ull >> 1);  // nonsense
  EXPECT_EQ(reader->drain(fn, 1000), 0u);
  EXPECT_EQ(reader->drain_final(fn), 0u);  // returns
  munmap(base, kRingBytes);
  close(fd);
}

}  // namespace
