// decode_native: runs a command under ptrace and prints each of its syscalls
// (following forks and threads) through dunetrace's decoders, with the memory
// copied by the same capture plan the shim runs in Dune mode. Compared with
// strace's lines by strace_parity.py, it checks the decoders on real programs
// where there is no /dev/kvm; dunetrace itself is checked the same way where
// there is.
//
// usage: decode_native [-s N] [-y] -o FILE -- PROG [ARGS...]
// Each line of FILE: "TID<space>LINE". Status: the program's.
#include <fcntl.h>
#include <signal.h>
#include <sys/ptrace.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <map>
#include <string>
#include <vector>

#include "program_path.h"
#include "syscall_capture.h"
#include "syscall_decoder.h"

namespace {

using dunetrace::decode::DecodeStyle;
using dunetrace::decode::SyscallCall;
namespace wire = dune::trace_wire;

int g_tid;  // whose memory the capture reads

bool read_tracee(uint64_t addr, void* dst, size_t n) {
  iovec local{dst, n};
  iovec remote{reinterpret_cast<void*>(addr), n};
  return process_vm_readv(g_tid, &local, 1, &remote, 1, 0) == static_cast<ssize_t>(n);
}

std::string fd_path(int tid, long fd) {
  if (fd < 0) return {};
  char link[64], buf[4096];
  snprintf(link, sizeof link, "/proc/%d/fd/%ld", tid, fd);
  ssize_t n = readlink(link, buf, sizeof buf);
  return n > 0 ? std::string(buf, static_cast<size_t>(n)) : std::string();
}

struct Entry {
  long nr = -1;
  uint64_t args[6] = {};
  std::vector<uint8_t> exec_capture;  // execve's memory, gone by its exit
  std::vector<uint8_t> entry_capture;  // in-out arguments as the call found them
};

// The entry plan's blobs (wire::entry_plan), as the shim takes them.
std::vector<uint8_t> capture_entry(const Entry& e, int tid) {
  wire::CaptureItem items[wire::kMaxCaptureItems];
  int n = wire::entry_plan(e.nr, e.args, items);
  std::vector<uint8_t> area(wire::kCaptureRoom);
  g_tid = tid;
  area.resize(wire::run_entry_capture(items, n, e.args, read_tracee, area.data(), area.size()));
  return area;
}

void capture(SyscallCall& call, int tid, uint32_t limit, std::vector<uint8_t>* out = nullptr, uint64_t sp = 0) {
  wire::CaptureItem items[wire::kMaxCaptureItems];
  int n = wire::capture_plan(call.nr, call.args, call.ret, limit, items);
  std::vector<uint8_t> area(wire::kCaptureRoom);
  g_tid = tid;
  size_t used = wire::run_capture(items, n, call.args, limit, read_tracee, area.data(), area.size(), sp);
  area.resize(used);
  if (out) {
    *out = area;
    return;
  }
  dunetrace::decode::parse_captures(std::string_view(reinterpret_cast<const char*>(area.data()), used), &call);
}

}  // namespace

int main(int argc, char** argv) {
  DecodeStyle style;
  const char* out_path = nullptr;
  int i = 1;
  for (; i < argc; ++i) {
    std::string a = argv[i];
    if (a == "-s" && i + 1 < argc) {
      style.string_limit = atoi(argv[++i]);
    } else if (a == "-y") {
      style.fd_paths = true;
    } else if (a == "-o" && i + 1 < argc) {
      out_path = argv[++i];
    } else if (a == "--") {
      ++i;
      break;
    } else {
      break;
    }
  }
  if (i >= argc || !out_path) {
    fprintf(stderr, "usage: decode_native [-s N] [-y] -o FILE -- PROG [ARGS...]\n");
    return 2;
  }
  FILE* out = fopen(out_path, "we");
  if (!out) {
    perror(out_path);
    return 2;
  }
  // Found in PATH here, as strace does (and dunetrace: its lookup): the traced
  // program's first syscall is the execve that succeeds.
  auto found = dunetrace::find_program(argv[i]);
  if (!found.ok()) {
    fprintf(stderr, "decode_native: %s\n", found.error.c_str());
    return 127;
  }
  const std::string prog = found.value;
  pid_t child = fork();
  if (child == 0) {
    ptrace(PTRACE_TRACEME, 0, nullptr, nullptr);
    raise(SIGSTOP);
    execv(prog.c_str(), argv + i);
    _exit(127);
  }
  int status;
  waitpid(child, &status, 0);
  ptrace(PTRACE_SETOPTIONS, child, nullptr,
         PTRACE_O_TRACESYSGOOD | PTRACE_O_TRACEFORK | PTRACE_O_TRACEVFORK | PTRACE_O_TRACECLONE |
             PTRACE_O_TRACEEXEC | PTRACE_O_EXITKILL);
  ptrace(PTRACE_SYSCALL, child, nullptr, nullptr);
  std::map<int, Entry> entries;
  int exit_status = 0;
  for (;;) {
    int tid = waitpid(-1, &status, __WALL);
    if (tid < 0) break;
    if (WIFEXITED(status) || WIFSIGNALED(status)) {
      if (tid == child) exit_status = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
      entries.erase(tid);
      continue;
    }
    if (!WIFSTOPPED(status)) continue;
    int sig = WSTOPSIG(status);
    int inject = 0;
    if (sig == (SIGTRAP | 0x80)) {
      __ptrace_syscall_info info{};
      ptrace(PTRACE_GET_SYSCALL_INFO, tid, sizeof info, &info);
      if (info.op == PTRACE_SYSCALL_INFO_ENTRY) {
        Entry& e = entries[tid];
        e.nr = static_cast<long>(info.entry.nr);
        for (int k = 0; k < 6; ++k) e.args[k] = info.entry.args[k];
        e.exec_capture.clear();
        e.entry_capture.clear();
        if (wire::wants_entry(e.nr)) e.entry_capture = capture_entry(e, tid);
        // Memory gone (or a stack moved) by the exit stop: taken now.
        if (e.nr == SYS_execve || e.nr == SYS_execveat || e.nr == SYS_exit_group || e.nr == SYS_exit ||
            e.nr == SYS_rt_sigreturn) {
          SyscallCall call;
          call.nr = e.nr;
          std::memcpy(call.args, e.args, sizeof call.args);
          capture(call, tid, static_cast<uint32_t>(style.string_limit), &e.exec_capture, info.stack_pointer);
          if (e.nr == SYS_exit_group || e.nr == SYS_exit) {
            call.returned = false;
            fprintf(out, "%d %s\n", tid, dunetrace::decode::syscall_line(call, style).c_str());
          }
        }
      } else if (info.op == PTRACE_SYSCALL_INFO_EXIT) {
        auto it = entries.find(tid);
        if (it != entries.end() && it->second.nr >= 0) {
          Entry& e = it->second;
          SyscallCall call;
          call.nr = e.nr;
          std::memcpy(call.args, e.args, sizeof call.args);
          call.ret = info.exit.rval;
          if (e.nr == SYS_execve || e.nr == SYS_execveat || e.nr == SYS_rt_sigreturn) {
            dunetrace::decode::parse_captures(
                std::string_view(reinterpret_cast<const char*>(e.exec_capture.data()), e.exec_capture.size()), &call);
          } else {
            capture(call, tid, static_cast<uint32_t>(style.string_limit));
            dunetrace::decode::parse_captures(
                std::string_view(reinterpret_cast<const char*>(e.entry_capture.data()), e.entry_capture.size()),
                &call);
          }
          if (style.fd_paths) {
            for (int k = 0; k < 6; ++k) call.fd_paths[k] = fd_path(tid, static_cast<long>(static_cast<int>(call.args[k])));
            call.fd_paths[6] = fd_path(tid, call.ret);
          }
          fprintf(out, "%d %s\n", tid, dunetrace::decode::syscall_line(call, style).c_str());
          e.nr = -1;
        }
      }
    } else if (sig == SIGTRAP && (status >> 16) != 0) {
      // fork/clone/exec events: nothing to deliver.
    } else if (sig == SIGSTOP && entries.find(tid) == entries.end()) {
      entries[tid];  // a new child's first stop
    } else {
      inject = sig;
    }
    ptrace(PTRACE_SYSCALL, tid, nullptr, reinterpret_cast<void*>(static_cast<long>(inject)));
  }
  fclose(out);
  return exit_status;
}
