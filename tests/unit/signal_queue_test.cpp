// The queue of signals caught on the host for a guest thread, and the
// forwarding stub's rule that a syscall does not start while one waits.
#include <gtest/gtest.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "signals/signal_queue.h"
#include "syscalls/dispatch.h"

namespace dune {
namespace {

siginfo_t info_of(int sig, int value = 0) {
  siginfo_t i{};
  i.si_signo = sig;
  i.si_value.sival_int = value;
  return i;
}

uint64_t bit(int sig) { return 1ull << (sig - 1); }

TEST(SignalQueue, FifoAndWaitingMask) {
  SignalQueue q;
  EXPECT_TRUE(q.empty());
  EXPECT_TRUE(q.push(info_of(SIGUSR1), true));
  EXPECT_TRUE(q.push(info_of(SIGALRM), true));
  EXPECT_EQ(q.waiting(), bit(SIGUSR1) | bit(SIGALRM));
  siginfo_t out;
  ASSERT_TRUE(q.pop(&out));
  EXPECT_EQ(out.si_signo, SIGUSR1);
  EXPECT_EQ(q.waiting(), bit(SIGALRM));
  ASSERT_TRUE(q.pop(&out));
  EXPECT_EQ(out.si_signo, SIGALRM);
  EXPECT_EQ(q.waiting(), 0u);
  EXPECT_FALSE(q.pop(&out));
}

TEST(SignalQueue, ASignalTheProgramBlocksIsNotMarkedWaiting) {
  // Let in by sigsuspend's temporary mask: the program's own mask blocks it,
  // and delivering it must not unblock it.
  SignalQueue q;
  EXPECT_TRUE(q.push(info_of(SIGUSR2), false));
  EXPECT_EQ(q.waiting(), 0u);
  EXPECT_FALSE(q.empty());
}

TEST(SignalQueue, RealTimeSignalsKeepTheirOrder) {
  SignalQueue q;
  for (int i = 0; i < 10; ++i) EXPECT_TRUE(q.push(info_of(SIGRTMIN + 1, i), true));
  siginfo_t out;
  for (int i = 0; i < 10; ++i) {
    ASSERT_TRUE(q.pop(&out));
    EXPECT_EQ(out.si_value.sival_int, i);
  }
}

TEST(SignalQueue, FullThenHolding) {
  SignalQueue q;
  for (uint32_t i = 0; i < SignalQueue::kCapacity; ++i) EXPECT_TRUE(q.push(info_of(SIGRTMIN), true));
  EXPECT_TRUE(q.full());
  EXPECT_FALSE(q.push(info_of(SIGRTMIN), true));
  q.hold(0x1234);
  EXPECT_TRUE(q.holding());
  EXPECT_EQ(q.held_mask(), 0x1234u);
  q.set_held_mask(0x10);
  EXPECT_EQ(q.held_mask(), 0x10u);
  q.end_hold();
  EXPECT_FALSE(q.holding());
  q.hold(1);
  q.clear();
  EXPECT_TRUE(q.empty());
  EXPECT_FALSE(q.holding());
  EXPECT_EQ(q.waiting(), 0u);
}

TEST(ForwardStub, RunsTheSyscallWhenNothingWaits) {
  SignalQueue q;
  EXPECT_EQ(dune_forward(SYS_getpid, 0, 0, 0, 0, 0, 0, q.indices()), getpid());
  EXPECT_EQ(dune_forward(SYS_getpid, 0, 0, 0, 0, 0, 0, nullptr), getpid());
}

TEST(ForwardStub, DoesNotStartTheSyscallWhileASignalWaits) {
  SignalQueue q;
  ASSERT_TRUE(q.push(info_of(SIGUSR1), true));
  int fds[2];
  ASSERT_EQ(pipe(fds), 0);
  // Not started: nothing written, "make it again after the handler".
  EXPECT_EQ(dune_forward(SYS_write, fds[1], reinterpret_cast<long>("x"), 1, 0, 0, 0, q.indices()),
            kRestartSyscall);
  // Without a queue it runs whatever waits.
  EXPECT_EQ(dune_forward(SYS_write, fds[1], reinterpret_cast<long>("y"), 1, 0, 0, 0, nullptr), 1);
  char c = 0;
  EXPECT_EQ(read(fds[0], &c, 1), 1);
  EXPECT_EQ(c, 'y');
  close(fds[0]);
  close(fds[1]);
}

}  // namespace
}  // namespace dune
