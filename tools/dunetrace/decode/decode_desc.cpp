// decode_desc.cpp - descriptors: read/write and their vectors, seeking, fcntl,
// dup, pipes, locks, copies between descriptors.
#include <fcntl.h>
#include <fmt/format.h>
#include <sys/syscall.h>

#include "decoder.h"

namespace dunetrace::decode {

namespace {

constexpr Named kSeek[] = {{0, "SEEK_SET"}, {1, "SEEK_CUR"}, {2, "SEEK_END"}, {3, "SEEK_DATA"}, {4, "SEEK_HOLE"}};
constexpr Named kFcntlCmds[] = {
    {0, "F_DUPFD"},       {1, "F_GETFD"},         {2, "F_SETFD"},       {3, "F_GETFL"},       {4, "F_SETFL"},
    {5, "F_GETLK"},       {6, "F_SETLK"},         {7, "F_SETLKW"},      {8, "F_SETOWN"},      {9, "F_GETOWN"},
    {10, "F_SETSIG"},     {11, "F_GETSIG"},       {15, "F_SETOWN_EX"},  {16, "F_GETOWN_EX"},  {36, "F_OFD_GETLK"},
    {37, "F_OFD_SETLK"},  {38, "F_OFD_SETLKW"},   {1024, "F_SETLEASE"}, {1025, "F_GETLEASE"}, {1026, "F_NOTIFY"},
    {1030, "F_DUPFD_CLOEXEC"}, {1031, "F_SETPIPE_SZ"}, {1032, "F_GETPIPE_SZ"}, {1033, "F_ADD_SEALS"},
    {1034, "F_GET_SEALS"},
};
constexpr Named kFdFlags[] = {{1, "FD_CLOEXEC"}};
constexpr Named kFlock[] = {{1, "LOCK_SH"}, {2, "LOCK_EX"}, {4, "LOCK_NB"}, {8, "LOCK_UN"}};
constexpr Named kFadvise[] = {{0, "POSIX_FADV_NORMAL"},   {1, "POSIX_FADV_RANDOM"},   {2, "POSIX_FADV_SEQUENTIAL"},
                              {3, "POSIX_FADV_WILLNEED"}, {4, "POSIX_FADV_DONTNEED"}, {5, "POSIX_FADV_NOREUSE"}};
constexpr Named kCloseRangeFlags[] = {{2, "CLOSE_RANGE_UNSHARE"}, {4, "CLOSE_RANGE_CLOEXEC"}};
constexpr Named kDescFlags[] = {{04000, "O_NONBLOCK"}, {040000, "O_DIRECT"}, {02000000, "O_CLOEXEC"}};

void fd_only(Ctx& c) { c.push(c.fd(0)); }

void io_buffer(Ctx& c, bool filled) {
  c.push(c.fd(0));
  c.push(filled ? (c.filled(1)) : c.bytes(1, c.arg(2)));
  c.push(c.ulong(2));
}
void read_(Ctx& c) { io_buffer(c, true); }
void write_(Ctx& c) { io_buffer(c, false); }
void pread_(Ctx& c) {
  io_buffer(c, true);
  c.push(c.lng(3));
}
void pwrite_(Ctx& c) {
  io_buffer(c, false);
  c.push(c.lng(3));
}

void readv_(Ctx& c) {
  c.push(c.fd(0));
  c.push(iovec_value(c, 1, true, c.arg(2)));
  c.push(c.integer(2));
}
void writev_(Ctx& c) {
  c.push(c.fd(0));
  c.push(iovec_value(c, 1, false, c.arg(2)));
  c.push(c.integer(2));
}
void preadv_(Ctx& c) {
  readv_(c);
  c.push(c.lng(3));
}
void pwritev_(Ctx& c) {
  writev_(c);
  c.push(c.lng(3));
}

void lseek_(Ctx& c) {
  c.push(c.fd(0));
  c.push(c.lng(1));
  c.push(xlat(c.arg(2), kSeek));
}

void ftruncate_(Ctx& c) {
  c.push(c.fd(0));
  c.push(c.lng(1));
}
void flock_(Ctx& c) {
  c.push(c.fd(0));
  c.push(flags(c.arg(1), kFlock));
}
void fadvise_(Ctx& c) {
  c.push(c.fd(0));
  c.push(c.lng(1));
  c.push(c.lng(2));
  c.push(xlat(c.arg(3), kFadvise, nullptr, false));
}

void fcntl_(Ctx& c) {
  c.push(c.fd(0));
  uint64_t cmd = c.arg(1) & 0xffffffff;
  c.push(xlat(cmd, kFcntlCmds, "F_"));
  switch (cmd) {
    case F_GETFD:
      if (c.ok() && c.ret()) c.note(fmt::format("(flags {})", flags(static_cast<uint64_t>(c.ret()), kFdFlags)));
      if (c.ok() && c.ret()) c.result(ResultStyle::kHex);
      break;
    case F_GETFL:
      if (c.ok()) {
        c.note(fmt::format("(flags {})", open_flags(static_cast<uint64_t>(c.ret()))));
        c.result(ResultStyle::kHex);
      }
      break;
    case F_SETFD: c.push(flags(c.arg(2), kFdFlags)); break;
    case F_SETFL: c.push(open_flags(c.arg(2))); break;
    case F_DUPFD:
    case F_DUPFD_CLOEXEC:
      c.push(c.integer(2));
      break;
    case F_GETOWN:
    case F_GETSIG:
    case F_GETLEASE:
    case F_GETPIPE_SZ:
    case F_GET_SEALS: break;
    case F_SETOWN:
    case F_SETSIG:
    case F_SETLEASE:
    case F_NOTIFY:
    case F_SETPIPE_SZ:
    case F_ADD_SEALS: c.push(c.integer(2)); break;
    default: c.push(c.ptr(2)); break;
  }
}

void dup_(Ctx& c) {
  c.push(c.fd(0));
}
void dup2_(Ctx& c) {
  c.push(c.fd(0));
  c.push(c.integer(1));
}
void dup3_(Ctx& c) {
  dup2_(c);
  c.push(flags(c.arg(2), kDescFlags));
}

Value fd_pair(Ctx& c, int i) {
  int fds[2];
  if (!c.ok() || !c.read(i, &fds)) return c.ptr(i);
  Value arr = Value::array();
  arr.add(Value::txt(std::to_string(fds[0])));
  arr.add(Value::txt(std::to_string(fds[1])));
  return arr;
}
void pipe_(Ctx& c) { c.push(fd_pair(c, 0)); }
void pipe2_(Ctx& c) {
  c.push(fd_pair(c, 0));
  c.push(flags(c.arg(1), kDescFlags));
}

void sendfile_(Ctx& c) {
  c.push(c.fd(0));
  c.push(c.fd(1));
  c.push(c.ptr(2));
  c.push(c.ulong(3));
}
void copy_file_range_(Ctx& c) {
  c.push(c.fd(0));
  c.push(c.ptr(1));
  c.push(c.fd(2));
  c.push(c.ptr(3));
  c.push(c.ulong(4));
  c.push(c.integer(5));
}
// An fd_set as strace prints it: "[3 5]".
std::string fd_set_text(const std::string& bytes, int nfds) {
  std::string s = "[";
  for (int fd = 0; fd < nfds && static_cast<size_t>(fd / 8) < bytes.size(); ++fd) {
    if (!((static_cast<uint8_t>(bytes[fd / 8]) >> (fd % 8)) & 1)) continue;
    if (s.size() > 1) s += ' ';
    s += std::to_string(fd);
  }
  return s + "]";
}

// select and pselect6: the sets and timeout as the call found them (captured
// at its entry), and in the note what it left: "(in [3], left {...})".
void select_common(Ctx& c, bool timespec) {
  int nfds = c.iarg(0) < 0 ? 0 : (c.iarg(0) > 1024 ? 1024 : c.iarg(0));
  c.push(c.integer(0));
  for (int i = 1; i <= 3; ++i) {
    const Blob* in = c.arg(i) ? c.call.blob(i, 0, true) : nullptr;
    if (!c.arg(i))
      c.push(Value::txt("NULL"));
    else if (in && in->status == dune::trace_wire::kCapOk)
      c.push(Value::txt(fd_set_text(in->bytes, nfds)));
    else
      c.push(c.ptr(i));
  }
  const uint8_t* t = c.arg(4) ? c.object(4, 16, true) : nullptr;
  c.push(t ? (timespec ? timespec_value(t) : timeval_value(t)) : c.ptr(4));
  if (!c.ok()) return;
  if (c.ret() == 0) {
    c.note("(Timeout)");
    return;
  }
  std::string note;
  const char* names[] = {"in", "out", "except"};
  for (int i = 1; i <= 3; ++i) {
    const Blob* out = c.arg(i) ? c.blob(i) : nullptr;
    if (!out || out->status != dune::trace_wire::kCapOk) continue;
    std::string set = fd_set_text(out->bytes, nfds);
    if (set == "[]") continue;
    note += std::string(note.empty() ? "" : ", ") + names[i - 1] + " " + set;
  }
  if (const uint8_t* left = c.arg(4) ? c.object(4, 16) : nullptr)
    note += std::string(note.empty() ? "" : ", ") + "left " +
            render_text(timespec ? timespec_value(left) : timeval_value(left), -1);
  if (!note.empty()) c.note("(" + note + ")");
}
void select_(Ctx& c) { select_common(c, false); }
void pselect6_(Ctx& c) {
  select_common(c, true);
  c.push(c.ptr(5));
}
constexpr Named kFalloc[] = {{0x1, "FALLOC_FL_KEEP_SIZE"}, {0x2, "FALLOC_FL_PUNCH_HOLE"},
                             {0x4, "FALLOC_FL_NO_HIDE_STALE"}, {0x8, "FALLOC_FL_COLLAPSE_RANGE"},
                             {0x10, "FALLOC_FL_ZERO_RANGE"}, {0x20, "FALLOC_FL_INSERT_RANGE"},
                             {0x40, "FALLOC_FL_UNSHARE_RANGE"}};
void fallocate_(Ctx& c) {
  c.push(c.fd(0));
  c.push(flags(c.arg(1), kFalloc));
  c.push(c.lng(2));
  c.push(c.lng(3));
}
constexpr Named kSplice[] = {{1, "SPLICE_F_MOVE"}, {2, "SPLICE_F_NONBLOCK"}, {4, "SPLICE_F_MORE"},
                             {8, "SPLICE_F_GIFT"}};
// An loff_t* of splice: NULL, or [offset].
Value offset_ptr(const Ctx& c, int i) {
  int64_t off;
  if (c.arg(i) && c.read(i, &off)) return Value::array().add(Value::txt(std::to_string(off)));
  return c.ptr(i);
}
void splice_(Ctx& c) {
  c.push(c.fd(0));
  c.push(offset_ptr(c, 1));
  c.push(c.fd(2));
  c.push(offset_ptr(c, 3));
  c.push(c.ulong(4));
  c.push(flags(c.arg(5), kSplice));
}
void tee_(Ctx& c) {
  c.push(c.fd(0));
  c.push(c.fd(1));
  c.push(c.ulong(2));
  c.push(flags(c.arg(3), kSplice));
}
void close_range_(Ctx& c) {
  auto bound = [&](int i) { return c.arg(i) == 0xffffffffu ? std::string("~0U") : std::to_string(c.arg(i) & 0xffffffff); };
  c.push(bound(0));
  c.push(bound(1));
  c.push(flags(c.arg(2), kCloseRangeFlags));
}
}  // namespace

const DecoderEntry kDescDecoders[] = {
    {SYS_read, read_}, {SYS_write, write_}, {SYS_pread64, pread_},
    {SYS_select, select_}, {SYS_pselect6, pselect6_}, {SYS_fallocate, fallocate_},
    {SYS_splice, splice_}, {SYS_tee, tee_},
    {SYS_pwrite64, pwrite_}, {SYS_readv, readv_}, {SYS_writev, writev_},
    {SYS_preadv, preadv_}, {SYS_pwritev, pwritev_}, {SYS_close, fd_only},
    {SYS_lseek, lseek_}, {SYS_fchdir, fd_only}, {SYS_ftruncate, ftruncate_},
    {SYS_fsync, fd_only}, {SYS_fdatasync, fd_only}, {SYS_syncfs, fd_only},
    {SYS_flock, flock_}, {SYS_fadvise64, fadvise_}, {SYS_fcntl, fcntl_},
    {SYS_dup, dup_}, {SYS_dup2, dup2_}, {SYS_dup3, dup3_},
    {SYS_pipe, pipe_}, {SYS_pipe2, pipe2_}, {SYS_sendfile, sendfile_},
    {SYS_copy_file_range, copy_file_range_}, {SYS_close_range, close_range_},
};
const size_t kDescDecodersCount = sizeof kDescDecoders / sizeof kDescDecoders[0];

Value iovec_value(const Ctx& c, int i, bool filled, uint64_t count) {
  const Blob* head = c.blob(i);
  if (!head || head->status != dune::trace_wire::kCapOk || (filled && !c.ok())) return c.ptr(i);
  Value arr = Value::array();
  size_t n = head->bytes.size() / 16;
  uint64_t left = filled ? static_cast<uint64_t>(c.ret()) : ~0ull;
  for (size_t k = 0; k < n; ++k) {
    uint64_t base, len;
    std::memcpy(&base, head->bytes.data() + 16 * k, 8);
    std::memcpy(&len, head->bytes.data() + 16 * k + 8, 8);
    uint64_t moved = len < left ? len : left;
    left -= moved;
    const Blob* data = c.blob(i, static_cast<int>(k + 1));
    Value e = Value::record();
    if (data && data->status == dune::trace_wire::kCapOk)
      e.add("iov_base", Value::str(data->bytes, moved > data->bytes.size()));
    else
      e.add("iov_base", Value::txt(address(base)));
    e.add("iov_len", Value::txt(std::to_string(len)));
    arr.add(std::move(e));
  }
  arr.truncated = n < count;
  return arr;
}
}  // namespace dunetrace::decode
