// dunetrace's syscall decoders on fixed inputs: strace's text for each family,
// the capture plan's blobs, --json's structure, and the strace options.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <sys/socket.h>
#include <sys/resource.h>
#include <sys/select.h>
#include <sys/un.h>
#include <unistd.h>

#include <cstring>
#include <string>
#include <vector>

#include "event_filter.h"
#include "options.h"
#include "syscall_capture.h"
#include "syscall_classes.h"
#include "syscall_decoder.h"
#include "trace_config.h"

using namespace dunetrace;
using namespace dunetrace::decode;
namespace wire = dune::trace_wire;

namespace {

// Memory for the capture plan: the test's own, read directly.
bool read_here(uint64_t addr, void* dst, size_t n) {
  if (addr < 4096) return false;
  std::memcpy(dst, reinterpret_cast<const void*>(addr), n);
  return true;
}

// A call whose memory is captured as the shim captures it, here.
SyscallCall captured(long nr, std::vector<uint64_t> args, int64_t ret, uint32_t limit = 32) {
  SyscallCall c;
  c.nr = nr;
  for (size_t i = 0; i < args.size(); ++i) c.args[i] = args[i];
  c.ret = ret;
  wire::CaptureItem items[wire::kMaxCaptureItems];
  int n = wire::capture_plan(nr, c.args, ret, limit, items);
  std::vector<uint8_t> area(wire::kCaptureRoom);
  size_t used = wire::run_capture(items, n, c.args, limit, read_here, area.data(), area.size());
  EXPECT_TRUE(parse_captures(std::string_view(reinterpret_cast<const char*>(area.data()), used), &c));
  return c;
}

uint64_t a(const void* p) { return reinterpret_cast<uint64_t>(p); }

// A call with in-out arguments: its entry plan runs on the memory as it is,
// then the_call changes it as the kernel would, then the plan after the call.
template <typename F>
SyscallCall captured_io(long nr, std::vector<uint64_t> args, int64_t ret, F the_call) {
  uint64_t a6[6] = {};
  for (size_t i = 0; i < args.size(); ++i) a6[i] = args[i];
  wire::CaptureItem items[wire::kMaxCaptureItems];
  int n = wire::entry_plan(nr, a6, items);
  std::vector<uint8_t> entry(wire::kCaptureRoom);
  entry.resize(wire::run_entry_capture(items, n, a6, read_here, entry.data(), entry.size()));
  the_call();
  SyscallCall c = captured(nr, args, ret);
  EXPECT_TRUE(parse_captures(std::string_view(reinterpret_cast<const char*>(entry.data()), entry.size()), &c));
  return c;
}

// The line with its spacing before '=' made one space.
std::string line(const SyscallCall& c, DecodeStyle s = {}) {
  std::string l = syscall_line(c, s);
  size_t close = l.find(")  ");
  if (close != std::string::npos) {
    size_t eq = l.find("= ", close);
    l = l.substr(0, close + 1) + " " + l.substr(eq);
  }
  return l;
}

TEST(DunetraceDecode, QuotingIsStraces) {
  EXPECT_EQ(quote_bytes(std::string("\177ELF\2\1\0\0", 8), 32, false), R"("\177ELF\2\1\0\0")");
  EXPECT_EQ(quote_bytes(std::string("\0" "1", 2), 32, false), R"("\0001")");
  EXPECT_EQ(quote_bytes("a\"b\\\n\t\r\v\f", 32, false), R"("a\"b\\\n\t\r\v\f")");
  EXPECT_EQ(quote_bytes("abcdef", 3, false), R"("abc"...)");
  EXPECT_EQ(quote_bytes("abc", 3, true), R"("abc"...)");
}

TEST(DunetraceDecode, ColumnAndResults) {
  SyscallCall c;
  c.nr = SYS_close;
  c.args[0] = 3;
  EXPECT_EQ(syscall_line(c, {}), "close(3)" + std::string(32, ' ') + "= 0");
  c.ret = -EBADF;
  EXPECT_EQ(line(c), "close(3) = -1 EBADF (Bad file descriptor)");
  c.ret = -512;
  EXPECT_EQ(line(c), "close(3) = ? ERESTARTSYS (To be restarted if SA_RESTART is set)");
  c.nr = SYS_exit_group;
  c.args[0] = 7;
  c.returned = false;
  EXPECT_EQ(line(c), "exit_group(7) = ?");
}

TEST(DunetraceDecode, FilesAndDescriptors) {
  const char* path = "/etc/passwd";
  auto c = captured(SYS_openat, {static_cast<uint64_t>(AT_FDCWD), a(path), O_RDONLY | O_CLOEXEC}, 3);
  EXPECT_EQ(line(c), R"(openat(AT_FDCWD, "/etc/passwd", O_RDONLY|O_CLOEXEC) = 3)");
  c = captured(SYS_openat, {3, a("x"), O_WRONLY | O_CREAT | O_TRUNC, 0644}, -EACCES);
  EXPECT_EQ(line(c), R"(openat(3, "x", O_WRONLY|O_CREAT|O_TRUNC, 0644) = -1 EACCES (Permission denied))");
  // A path longer than -s is whole; a buffer is cut at -s.
  std::string longpath = "/" + std::string(60, 'p');
  c = captured(SYS_access, {a(longpath.c_str()), R_OK}, 0, 8);
  EXPECT_EQ(line(c, {8, false}), "access(\"" + longpath + "\", R_OK) = 0");
  char buf[64] = "hello world, a line that is long\n";
  c = captured(SYS_read, {0, a(buf), sizeof buf}, 33, 5);
  EXPECT_EQ(line(c, {5, false}), R"(read(0, "hello"..., 64) = 33)");
  c = captured(SYS_read, {0, a(buf), sizeof buf}, -EAGAIN);
  EXPECT_NE(line(c).find("read(0, 0x"), std::string::npos);
  c = captured(SYS_write, {1, a("hi\n"), 3}, 3);
  EXPECT_EQ(line(c), R"(write(1, "hi\n", 3) = 3)");
  // An unreadable pointer is shown as the number it is.
  c = captured(SYS_openat, {static_cast<uint64_t>(AT_FDCWD), 16, 0}, -EFAULT);
  EXPECT_EQ(line(c), "openat(AT_FDCWD, 0x10, O_RDONLY) = -1 EFAULT (Bad address)");
  struct stat st {};
  st.st_mode = S_IFREG | 0644;
  st.st_size = 45431;
  c = captured(SYS_newfstatat, {3, a(""), a(&st), AT_EMPTY_PATH}, 0);
  EXPECT_EQ(line(c), R"(newfstatat(3, "", {st_mode=S_IFREG|0644, st_size=45431, ...}, AT_EMPTY_PATH) = 0)");
  st.st_mode = S_IFCHR | 0620;
  st.st_rdev = makedev(0x88, 0);
  c = captured(SYS_fstat, {1, a(&st)}, 0);
  EXPECT_EQ(line(c), "fstat(1, {st_mode=S_IFCHR|0620, st_rdev=makedev(0x88, 0), ...}) = 0");
  c = captured(SYS_fcntl, {4, F_GETFL}, 0x8002);
  EXPECT_EQ(line(c), "fcntl(4, F_GETFL) = 0x8002 (flags O_RDWR|O_LARGEFILE)");
  c = captured(SYS_fcntl, {4, F_SETFD, FD_CLOEXEC}, 0);
  EXPECT_EQ(line(c), "fcntl(4, F_SETFD, FD_CLOEXEC) = 0");
  int fds[2] = {3, 4};
  c = captured(SYS_pipe2, {a(fds), O_CLOEXEC}, 0);
  EXPECT_EQ(line(c), "pipe2([3, 4], O_CLOEXEC) = 0");
  c = captured(SYS_lseek, {3, static_cast<uint64_t>(-1), SEEK_CUR}, 9);
  EXPECT_EQ(line(c), "lseek(3, -1, SEEK_CUR) = 9");
  c = captured(SYS_umask, {022}, 077);
  EXPECT_EQ(line(c), "umask(022) = 077");
  iovec iov[2] = {{const_cast<char*>("ab"), 2}, {const_cast<char*>("cde"), 3}};
  c = captured(SYS_writev, {1, a(iov), 2}, 5);
  EXPECT_EQ(line(c), R"(writev(1, [{iov_base="ab", iov_len=2}, {iov_base="cde", iov_len=3}], 2) = 5)");
}

TEST(DunetraceDecode, FdPaths) {
  SyscallCall c;
  c.nr = SYS_read;
  c.args[0] = 3;
  c.args[2] = 10;
  c.ret = -EIO;
  c.args[1] = 0x1000;
  c.fd_paths[0] = "/etc/passwd";
  EXPECT_EQ(line(c, {32, true}), "read(3</etc/passwd>, 0x1000, 10) = -1 EIO (Input/output error)");
  c.nr = SYS_dup;
  c.ret = 4;
  c.fd_paths[6] = "/etc/passwd";
  EXPECT_EQ(line(c, {32, true}), "dup(3</etc/passwd>) = 4</etc/passwd>");
}

TEST(DunetraceDecode, MemoryProcessSignals) {
  auto c = captured(SYS_mmap, {0, 8192, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, static_cast<uint64_t>(-1), 0},
                    0x7f0000001000);
  EXPECT_EQ(line(c), "mmap(NULL, 8192, PROT_READ|PROT_WRITE, MAP_PRIVATE|MAP_ANONYMOUS, -1, 0) = 0x7f0000001000");
  c = captured(SYS_mprotect, {0x7f0000001000, 4096, PROT_NONE}, 0);
  EXPECT_EQ(line(c), "mprotect(0x7f0000001000, 4096, PROT_NONE) = 0");
  c = captured(SYS_brk, {0}, 0x555555559000);
  EXPECT_EQ(line(c), "brk(NULL) = 0x555555559000");
  c = captured(SYS_madvise, {0x7f0000001000, 4096, MADV_DONTNEED}, 0);
  EXPECT_EQ(line(c), "madvise(0x7f0000001000, 4096, MADV_DONTNEED) = 0");
  const char* argv[] = {"ls", "-l", nullptr};
  const char* envp[] = {"A=1", "B=2", "C=3", nullptr};
  c = captured(SYS_execve, {a("/bin/ls"), a(argv), a(envp)}, 0);
  EXPECT_EQ(line(c), "execve(\"/bin/ls\", [\"ls\", \"-l\"], " + address(a(envp)) + " /* 3 vars */) = 0");
  // dunetrace's own variables are not counted; a program's LD_PRELOAD the shim joined is.
  const char* traced[] = {"A=1", "DUNE_TRACE=kinds=2", "LD_PRELOAD=/usr/lib/x86_64-linux-gnu/libdune_preload.so", nullptr};
  c = captured(SYS_execve, {a("/bin/ls"), a(argv), a(traced)}, 0);
  EXPECT_EQ(line(c), "execve(\"/bin/ls\", [\"ls\", \"-l\"], " + address(a(traced)) + " /* 1 var */) = 0");
  const char* joined[] = {"DUNE_TRACE=kinds=2", "LD_PRELOAD=/usr/lib/libdune_preload.so:/opt/mine.so", nullptr};
  c = captured(SYS_execve, {a("/bin/ls"), a(argv), a(joined)}, 0);
  EXPECT_EQ(line(c), "execve(\"/bin/ls\", [\"ls\", \"-l\"], " + address(a(joined)) + " /* 1 var */) = 0");
  int status = 3 << 8;
  c = captured(SYS_wait4, {static_cast<uint64_t>(-1), a(&status), 0, 0}, 1234);
  EXPECT_EQ(line(c), "wait4(-1, [{WIFEXITED(s) && WEXITSTATUS(s) == 3}], 0, NULL) = 1234");
  status = SIGKILL;
  c = captured(SYS_wait4, {static_cast<uint64_t>(-1), a(&status), WNOHANG, 0}, 1234);
  EXPECT_EQ(line(c), "wait4(-1, [{WIFSIGNALED(s) && WTERMSIG(s) == SIGKILL}], WNOHANG, NULL) = 1234");
  uint64_t rl[2] = {8192 * 1024, ~0ull};
  c = captured(SYS_prlimit64, {0, RLIMIT_STACK, 0, a(rl)}, 0);
  EXPECT_EQ(line(c), "prlimit64(0, RLIMIT_STACK, NULL, {rlim_cur=8192*1024, rlim_max=RLIM64_INFINITY}) = 0");
  c = captured(SYS_clone, {CLONE_CHILD_CLEARTID | CLONE_CHILD_SETTID | SIGCHLD, 0, 0, 0x7f00000000a0, 0}, 77);
  EXPECT_EQ(line(c), "clone(child_stack=NULL, flags=CLONE_CHILD_CLEARTID|CLONE_CHILD_SETTID|SIGCHLD, "
                     "child_tidptr=0x7f00000000a0) = 77");
  // The kernel's sigaction: handler, flags, restorer, mask.
  uint64_t act[4] = {0x401000, 0x04000000 | 0x10000000, 0x7f0000002000, (1ull << (SIGINT - 1)) | (1ull << (SIGCHLD - 1))};
  c = captured(SYS_rt_sigaction, {SIGTERM, a(act), 0, 8}, 0);
  EXPECT_EQ(line(c), "rt_sigaction(SIGTERM, {sa_handler=0x401000, sa_mask=[INT CHLD], sa_flags=SA_RESTORER|SA_RESTART, "
                     "sa_restorer=0x7f0000002000}, NULL, 8) = 0");
  uint64_t all = ~0ull & ~(1ull << (SIGKILL - 1));
  uint64_t old = 0;
  c = captured(SYS_rt_sigprocmask, {SIG_SETMASK, a(&all), a(&old), 8}, 0);
  EXPECT_EQ(line(c), "rt_sigprocmask(SIG_SETMASK, ~[KILL], [], 8) = 0");
  c = captured(SYS_tgkill, {5, 6, static_cast<uint64_t>(SIGRTMIN + 1)}, 0);
  EXPECT_EQ(line(c), "tgkill(5, 6, SIGRT_3) = 0");  // glibc's SIGRTMIN is the kernel's 34
  siginfo_t si{};
  si.si_signo = SIGCHLD;
  si.si_code = CLD_EXITED;
  si.si_pid = 42;
  si.si_status = 3;
  c = captured(SYS_waitid, {P_PID, 42, a(&si), WEXITED, 0}, 0);
  EXPECT_EQ(line(c), "waitid(P_PID, 42, {si_signo=SIGCHLD, si_code=CLD_EXITED, si_pid=42, si_uid=0, si_status=3, "
                     "si_utime=0, si_stime=0}, WEXITED, NULL) = 0");
  siginfo_t q{};
  q.si_signo = SIGUSR1;
  q.si_code = SI_QUEUE;
  q.si_pid = 7;
  q.si_value.sival_int = 5;
  c = captured(SYS_rt_sigqueueinfo, {7, SIGUSR1, a(&q)}, 0);
  EXPECT_EQ(line(c), "rt_sigqueueinfo(7, SIGUSR1, {si_signo=SIGUSR1, si_code=SI_QUEUE, si_pid=7, si_uid=0, si_int=5, "
                     "si_ptr=0x5}) = 0");
  c = captured(SYS_futex, {0x7f0000000100, 129, 1}, 0);
  EXPECT_EQ(line(c), "futex(0x7f0000000100, FUTEX_WAKE_PRIVATE, 1) = 0");
}

TEST(DunetraceDecode, TimeNetAndPolling) {
  timespec ts{1, 500};
  auto c = captured(SYS_clock_gettime, {CLOCK_MONOTONIC, a(&ts)}, 0);
  EXPECT_EQ(line(c), "clock_gettime(CLOCK_MONOTONIC, {tv_sec=1, tv_nsec=500}) = 0");
  c = captured(SYS_socket, {AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0}, 3);
  EXPECT_EQ(line(c), "socket(AF_UNIX, SOCK_STREAM|SOCK_CLOEXEC|SOCK_NONBLOCK, 0) = 3");
  struct {
    uint16_t family;
    char path[20];
  } un = {AF_UNIX, "/run/x.sock"};
  c = captured(SYS_connect, {3, a(&un), 110}, -ENOENT);
  EXPECT_EQ(line(c), R"(connect(3, {sa_family=AF_UNIX, sun_path="/run/x.sock"}, 110) = -1 ENOENT (No such file or directory))");
  uint8_t in[16] = {2, 0, 0x1f, 0x90, 127, 0, 0, 1};
  c = captured(SYS_bind, {3, a(in), 16}, 0);
  EXPECT_EQ(line(c), R"(bind(3, {sa_family=AF_INET, sin_port=htons(8080), sin_addr=inet_addr("127.0.0.1")}, 16) = 0)");
  struct {
    int fd;
    int16_t events, revents;
  } pfd[2] = {{3, 1, 1}, {4, 1, 0}};
  c = captured(SYS_poll, {a(pfd), 2, static_cast<uint64_t>(-1)}, 1);
  EXPECT_EQ(line(c), "poll([{fd=3, events=POLLIN}, {fd=4, events=POLLIN}], 2, -1) = 1 ([{fd=3, revents=POLLIN}])");
  c = captured(SYS_poll, {a(pfd), 2, 10}, 0);
  EXPECT_EQ(line(c), "poll([{fd=3, events=POLLIN}, {fd=4, events=POLLIN}], 2, 10) = 0 (Timeout)");
  uint8_t ev[24] = {};
  uint32_t in_et = 1u | (1u << 31);
  uint64_t data = 3;
  std::memcpy(ev, &in_et, 4);
  std::memcpy(ev + 4, &data, 8);
  c = captured(SYS_epoll_ctl, {5, 1, 3, a(ev)}, 0);
  EXPECT_EQ(line(c), "epoll_ctl(5, EPOLL_CTL_ADD, 3, {events=EPOLLIN|EPOLLET, data={u32=3, u64=3}}) = 0");
  c = captured(SYS_epoll_ctl, {5, 2, 3, 0x7ffd0000}, 0);
  EXPECT_EQ(line(c), "epoll_ctl(5, EPOLL_CTL_DEL, 3, 0x7ffd0000) = 0");
  uint32_t ready = 1;
  std::memcpy(ev, &ready, 4);
  c = captured(SYS_epoll_wait, {5, a(ev), 1023, 1000}, 1);
  EXPECT_EQ(line(c), "epoll_wait(5, [{events=EPOLLIN, data={u32=3, u64=3}}], 1023, 1000) = 1");
  c = captured(SYS_epoll_wait, {5, a(ev), 1023, 0}, 0);
  EXPECT_EQ(line(c), "epoll_wait(5, [], 1023, 0) = 0");
  c = captured(SYS_ioctl, {3, 0x5401, 0x7ffd0000}, -ENOTTY);
  EXPECT_EQ(line(c), "ioctl(3, TCGETS, 0x7ffd0000) = -1 ENOTTY (Inappropriate ioctl for device)");
  c = captured(SYS_ioctl, {3, 0xc0105500, 0x7ffd0000}, -EINVAL);
  EXPECT_EQ(line(c), "ioctl(3, _IOC(_IOC_READ|_IOC_WRITE, 0x55, 0, 0x10), 0x7ffd0000) = -1 EINVAL (Invalid argument)");
  // Unknown to the decoders: numbers, as before.
  SyscallCall raw;
  raw.nr = SYS_kexec_load;
  EXPECT_EQ(line(raw).substr(0, 11), "kexec_load(");
}

// What the call found and what it left (captured at its entry and after it):
// select's sets and timeout, a socket length the kernel rewrote; messages and
// their descriptors; statfs.
TEST(DunetraceDecode, InOutArgumentsAndMessages) {
  fd_set rd;
  FD_ZERO(&rd);
  FD_SET(3, &rd);
  FD_SET(4, &rd);
  timeval tv{5, 0};
  auto c = captured_io(SYS_select, {5, a(&rd), 0, 0, a(&tv)}, 1, [&] {
    FD_CLR(3, &rd);
    tv = {4, 999};
  });
  EXPECT_EQ(line(c), "select(5, [3 4], NULL, NULL, {tv_sec=5, tv_usec=0}) = 1 (in [4], left {tv_sec=4, tv_usec=999})");
  timespec ts{0, 1000};
  c = captured_io(SYS_pselect6, {5, 0, a(&rd), 0, a(&ts), 0}, 0, [] {});
  EXPECT_EQ(line(c), "pselect6(5, NULL, [4], NULL, {tv_sec=0, tv_nsec=1000}, NULL) = 0 (Timeout)");

  sockaddr_un peer{};
  peer.sun_family = AF_UNIX;
  socklen_t len = sizeof peer;
  c = captured_io(SYS_accept4, {7, a(&peer), a(&len), SOCK_CLOEXEC}, 9, [&] { len = 2; });
  EXPECT_EQ(line(c), "accept4(7, {sa_family=AF_UNIX}, [110 => 2], SOCK_CLOEXEC) = 9");
  DecodeStyle s;
  EXPECT_EQ(args_json(decode_syscall(c, s), s), R"([7,{"sa_family":"AF_UNIX"},[{"in":110,"out":2}],"SOCK_CLOEXEC"])");
  len = sizeof peer;
  c = captured_io(SYS_accept4, {7, a(&peer), a(&len), 0}, -EAGAIN, [] {});
  EXPECT_EQ(line(c), "accept4(7, " + address(a(&peer)) + ", [110], 0) = -1 EAGAIN (Resource temporarily unavailable)");
  int type = 0;
  socklen_t tl = 4;
  c = captured_io(SYS_getsockopt, {5, SOL_SOCKET, SO_TYPE, a(&type), a(&tl)}, 0, [&] { type = 2; });
  EXPECT_EQ(line(c), "getsockopt(5, SOL_SOCKET, SO_TYPE, [2], [4]) = 0");

  char data[] = "hello";
  iovec iov{data, 5};
  alignas(cmsghdr) char ctl[CMSG_SPACE(sizeof(int))] = {};
  msghdr m{};
  m.msg_iov = &iov;
  m.msg_iovlen = 1;
  m.msg_control = ctl;
  m.msg_controllen = sizeof ctl;
  cmsghdr* cm = CMSG_FIRSTHDR(&m);
  cm->cmsg_level = SOL_SOCKET;
  cm->cmsg_type = SCM_RIGHTS;
  cm->cmsg_len = CMSG_LEN(sizeof(int));
  int fd0 = 0;
  std::memcpy(CMSG_DATA(cm), &fd0, sizeof fd0);
  c = captured_io(SYS_sendmsg, {3, a(&m), MSG_NOSIGNAL}, 5, [] {});
  EXPECT_EQ(line(c), R"(sendmsg(3, {msg_name=NULL, msg_namelen=0, msg_iov=[{iov_base="hello", iov_len=5}], )"
                     R"(msg_iovlen=1, msg_control=[{cmsg_len=20, cmsg_level=SOL_SOCKET, cmsg_type=SCM_RIGHTS, )"
                     R"(cmsg_data=[0]}], msg_controllen=24, msg_flags=0}, MSG_NOSIGNAL) = 5)");
  sockaddr_un from{};
  char buf[16] = {};
  iovec riov{buf, sizeof buf};
  msghdr r{};
  r.msg_name = &from;
  r.msg_namelen = sizeof from;
  r.msg_iov = &riov;
  r.msg_iovlen = 1;
  c = captured_io(SYS_recvmsg, {4, a(&r), 0}, 4, [&] {
    std::memcpy(buf, "ping", 4);
    from.sun_family = AF_UNIX;
    r.msg_namelen = 2;
  });
  EXPECT_EQ(line(c), R"(recvmsg(4, {msg_name={sa_family=AF_UNIX}, msg_namelen=110 => 2, )"
                     R"(msg_iov=[{iov_base="ping", iov_len=16}], msg_iovlen=1, msg_controllen=0, msg_flags=0}, 0) = 4)");

  uint64_t sf[15] = {0xef53, 4096, 100, 50, 40, 1000, 900, 0, 255, 4096, 0x1020};
  uint32_t fsid[2] = {0x1234, 0};
  std::memcpy(&sf[7], fsid, sizeof fsid);
  c = captured(SYS_statfs, {a("/"), a(sf)}, 0);
  EXPECT_EQ(line(c), R"(statfs("/", {f_type=EXT2_SUPER_MAGIC, f_bsize=4096, f_blocks=100, f_bfree=50, f_bavail=40, )"
                     R"(f_files=1000, f_ffree=900, f_fsid={val=[0x1234, 0]}, f_namelen=255, f_frsize=4096, )"
                     R"(f_flags=ST_VALID|ST_RELATIME}) = 0)");
}

// System V and POSIX IPC, capabilities, groups, and the odds and ends.
TEST(DunetraceDecode, IpcCredsAndOdds) {
  auto c = captured(SYS_shmget, {0, 4096, 01000 | 0600}, 3);
  EXPECT_EQ(line(c), "shmget(IPC_PRIVATE, 4096, IPC_CREAT|0600) = 3");
  c = captured(SYS_shmat, {3, 0, 010000}, 0x7f0000010000);
  EXPECT_EQ(line(c), "shmat(3, NULL, SHM_RDONLY) = 0x7f0000010000");
  c = captured(SYS_shmctl, {3, 0, 0}, 0);
  EXPECT_EQ(line(c), "shmctl(3, IPC_RMID, NULL) = 0");
  uint16_t ops[6] = {0, static_cast<uint16_t>(-1), 010000, 1, 1, 04000};
  c = captured(SYS_semtimedop, {4, a(ops), 2, 0}, 0);
  EXPECT_EQ(line(c), "semtimedop(4, [{sem_num=0, sem_op=-1, sem_flg=SEM_UNDO}, {sem_num=1, sem_op=1, "
                     "sem_flg=IPC_NOWAIT}], 2, NULL) = 0");
  struct {
    long type;
    char text[8];
  } msg = {7, "hi"};
  c = captured(SYS_msgsnd, {5, a(&msg), 3, 04000}, 0);
  EXPECT_EQ(line(c), R"(msgsnd(5, {mtype=7, mtext="hi\0"}, 3, IPC_NOWAIT) = 0)");
  c = captured(SYS_msgrcv, {5, a(&msg), 8, 0, 04000}, -ENOMSG);
  EXPECT_EQ(line(c), "msgrcv(5, " + address(a(&msg)) + ", 8, 0, IPC_NOWAIT) = -1 ENOMSG (No message of desired type)");
  long attr[4] = {0, 4, 16, 0};
  c = captured(SYS_mq_open, {a("q"), O_RDWR | O_CREAT | O_CLOEXEC, 0600, a(attr)}, 3);
  EXPECT_EQ(line(c), R"(mq_open("q", O_RDWR|O_CREAT|O_CLOEXEC, 0600, {mq_flags=0, mq_maxmsg=4, mq_msgsize=16, )"
                     R"(mq_curmsgs=0}) = 3)");
  char got[16] = "msg";
  unsigned prio = 2;
  c = captured(SYS_mq_timedreceive, {3, a(got), 16, a(&prio), 0}, 3);
  EXPECT_EQ(line(c), R"(mq_timedreceive(3, "msg", 16, [2], NULL) = 3)");

  uint32_t hdr[2] = {0x20080522, 0};
  uint32_t data[6] = {1u << 0 | 1u << 5, 1u << 0, 0, 1u << (38 - 32), 0, 0};
  c = captured(SYS_capget, {a(hdr), a(data)}, 0);
  EXPECT_EQ(line(c), "capget({version=_LINUX_CAPABILITY_VERSION_3, pid=0}, {effective=1<<CAP_CHOWN|1<<CAP_KILL|"
                     "1<<CAP_PERFMON, permitted=1<<CAP_CHOWN, inheritable=0}) = 0");
  uint32_t gids[3] = {0, 4, 27};
  c = captured(SYS_getgroups, {64, a(gids)}, 3);
  EXPECT_EQ(line(c), "getgroups(64, [0, 4, 27]) = 3");
  c = captured(SYS_personality, {0xffffffff}, 0x40000);
  EXPECT_EQ(line(c), "personality(0xffffffff) = 0x40000 (PER_LINUX|ADDR_NO_RANDOMIZE)");
  c = captured(SYS_membarrier, {0, 0}, 0x9);
  EXPECT_EQ(line(c), "membarrier(MEMBARRIER_CMD_QUERY, 0) = 0x9 (MEMBARRIER_CMD_GLOBAL|MEMBARRIER_CMD_PRIVATE_EXPEDITED)");
  int64_t off = 4096;
  c = captured(SYS_splice, {3, a(&off), 6, 0, 4, 1 | 4}, 4);
  EXPECT_EQ(line(c), "splice(3, [4096], 6, NULL, 4, SPLICE_F_MOVE|SPLICE_F_MORE) = 4");
  c = captured(SYS_fallocate, {7, 0x1 | 0x2, 0, 8192}, 0);
  EXPECT_EQ(line(c), "fallocate(7, FALLOC_FL_KEEP_SIZE|FALLOC_FL_PUNCH_HOLE, 0, 8192) = 0");
  c = captured(SYS_inotify_add_watch, {8, a("/tmp/f"), 0x8 | 0x2}, 1);
  EXPECT_EQ(line(c), R"(inotify_add_watch(8, "/tmp/f", IN_MODIFY|IN_CLOSE_WRITE) = 1)");
}

TEST(DunetraceDecode, JsonKeepsStructure) {
  const char* argv[] = {"a\"b", nullptr};
  const char* envp[] = {nullptr};
  auto c = captured(SYS_execve, {a("/bin/x"), a(argv), a(envp)}, -ENOENT);
  DecodeStyle s;
  Decoded d = decode_syscall(c, s);
  std::string j = args_json(d, s);
  EXPECT_EQ(j.substr(0, 21), R"(["/bin/x",["a\"b"],{")");
  EXPECT_NE(j.find(R"("comment":"0 vars")"), std::string::npos);
  // What the call found and what it left: strace's "=>", an object in JSON.
  uint64_t args3[11] = {CLONE_PARENT_SETTID | CLONE_VM, 0, 0, 0x7f0000000300, SIGCHLD, 0, 0, 0, 0, 0, 0};
  c = captured(SYS_clone3, {a(args3), sizeof args3}, 99);
  EXPECT_EQ(line(c), "clone3({flags=CLONE_VM|CLONE_PARENT_SETTID, parent_tid=0x7f0000000300, exit_signal=SIGCHLD, "
                     "stack=NULL, stack_size=0} => {parent_tid=[99]}, 88) = 99");
  d = decode_syscall(c, s);
  EXPECT_NE(args_json(d, s).find(R"(,"out":{"parent_tid":[99]}},88])"), std::string::npos) << args_json(d, s);
  struct stat st {};
  st.st_mode = S_IFDIR | 0755;
  c = captured(SYS_fstat, {3, a(&st)}, 0);
  d = decode_syscall(c, s);
  EXPECT_EQ(args_json(d, s), R"([3,{"st_mode":"S_IFDIR|0755","st_size":0,"...":true}])");
}

TEST(DunetraceDecode, CapturePlanBounds) {
  // A string running into an unreadable page is cut where it can be read.
  long page = sysconf(_SC_PAGESIZE);
  void* m = mmap(nullptr, 2 * page, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  ASSERT_NE(m, MAP_FAILED);
  ASSERT_EQ(mprotect(static_cast<char*>(m) + page, page, PROT_NONE), 0);
  char* tail = static_cast<char*>(m) + page - 4;
  std::memcpy(tail, "abcd", 4);
  auto safe = [](uint64_t addr, void* dst, size_t n) {
    iovec l{dst, n}, r{reinterpret_cast<void*>(addr), n};
    return process_vm_readv(getpid(), &l, 1, &r, 1, 0) == static_cast<ssize_t>(n);
  };
  SyscallCall c;
  c.nr = SYS_chdir;
  c.args[0] = a(tail);
  c.ret = -ENOENT;
  wire::CaptureItem items[wire::kMaxCaptureItems];
  int n = wire::capture_plan(c.nr, c.args, c.ret, 32, items);
  std::vector<uint8_t> area(wire::kCaptureRoom);
  size_t used = wire::run_capture(items, n, c.args, 32, safe, area.data(), area.size());
  ASSERT_TRUE(parse_captures(std::string_view(reinterpret_cast<const char*>(area.data()), used), &c));
  EXPECT_EQ(line(c), R"(chdir("abcd"...) = -1 ENOENT (No such file or directory))");
  // Room runs out: blobs stop, nothing is written past it.
  std::vector<uint8_t> small(12, 0xee);
  used = wire::run_capture(items, n, c.args, 32, safe, small.data(), 10);
  EXPECT_LE(used, 10u);
  EXPECT_EQ(small[10], 0xee);
  munmap(m, 2 * page);
  // A malformed area is refused.
  SyscallCall bad;
  EXPECT_FALSE(parse_captures(std::string_view("\x01\x00\x00\x00\xff\x00\x00\x00", 8), &bad));
}

TEST(DunetraceDecode, StraceOptions) {
  auto parse = [](std::vector<const char*> args) {
    args.insert(args.begin(), "dunetrace");
    return parse_options(static_cast<int>(args.size()), args.data());
  };
  auto o = parse({"-s", "100", "-y", "-tt", "-qq", "-T", "ls"});
  ASSERT_TRUE(o.ok()) << o.error;
  EXPECT_EQ(o.value.string_limit, 100);
  EXPECT_TRUE(o.value.fd_paths);
  EXPECT_EQ(o.value.timestamps, 2);
  EXPECT_EQ(o.value.quiet, 2);
  EXPECT_TRUE(o.value.timing);
  EXPECT_EQ(o.value.command, std::vector<std::string>{"ls"});
  o = parse({"-ttt", "-r", "-z", "ls"});
  ASSERT_TRUE(o.ok());
  EXPECT_EQ(o.value.timestamps, 3);
  EXPECT_TRUE(o.value.relative_timestamps);
  EXPECT_EQ(o.value.filter.status, kStatusSuccessful);
  EXPECT_FALSE(parse({"-z", "-Z", "ls"}).ok());
  EXPECT_FALSE(parse({"-s", "-1", "ls"}).ok());
  EXPECT_FALSE(parse({"-s", "x", "ls"}).ok());
  o = parse({"-e", "trace=%file,getpid", "-e", "status=failed", "ls"});
  ASSERT_TRUE(o.ok()) << o.error;
  EXPECT_TRUE(o.value.filter.syscalls.test(SYS_openat));
  EXPECT_TRUE(o.value.filter.syscalls.test(SYS_getpid));
  EXPECT_FALSE(o.value.filter.syscalls.test(SYS_read));
  EXPECT_EQ(o.value.filter.status, kStatusFailed);
  auto bad = parse({"-e", "trace=%nope", "ls"});
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.error.find("%file"), std::string::npos);
  EXPECT_FALSE(parse({"-e", "status=maybe", "ls"}).ok());
  for (const char* cls : {"file", "process", "memory", "signal", "network", "desc", "ipc", "clock", "creds"})
    EXPECT_TRUE(syscall_class(cls).has_value()) << cls;
  EXPECT_TRUE(syscall_class("desc")->test(SYS_read));
  EXPECT_TRUE(syscall_class("memory")->test(SYS_mmap));
}

TEST(DunetraceDecode, ConfigCarriesStringLimitAndFdPaths) {
  dune::TraceConfig c;
  c.string_limit = 200;
  c.fd_paths = true;
  std::strcpy(c.dir, "/tmp/x");
  dune::TraceConfig back;
  ASSERT_TRUE(dune::decode_trace_config(dune::encode_trace_config(c), &back));
  EXPECT_EQ(back.string_limit, 200);
  EXPECT_TRUE(back.fd_paths);
}

}  // namespace
