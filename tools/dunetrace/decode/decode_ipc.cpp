// decode_ipc.cpp - System V shared memory, semaphores and message queues, and
// POSIX message queues (mq_*).
#include <fmt/format.h>
#include <sys/syscall.h>

#include "decoder.h"

namespace dunetrace::decode {

namespace {

constexpr Named kIpcGetFlags[] = {{01000, "IPC_CREAT"}, {02000, "IPC_EXCL"}, {04000, "IPC_NOWAIT"}};
constexpr Named kShmGetFlags[] = {{01000, "IPC_CREAT"}, {02000, "IPC_EXCL"}, {04000, "SHM_HUGETLB"},
                                  {010000, "SHM_NORESERVE"}};
constexpr Named kShmAtFlags[] = {{010000, "SHM_RDONLY"}, {020000, "SHM_RND"}, {040000, "SHM_REMAP"},
                                 {0100000, "SHM_EXEC"}};
constexpr Named kMsgFlags[] = {{04000, "IPC_NOWAIT"}, {010000, "MSG_NOERROR"}, {020000, "MSG_EXCEPT"},
                               {040000, "MSG_COPY"}};
constexpr Named kSemFlags[] = {{04000, "IPC_NOWAIT"}, {010000, "SEM_UNDO"}};
constexpr Named kIpcCmds[] = {{0, "IPC_RMID"}, {1, "IPC_SET"}, {2, "IPC_STAT"}, {3, "IPC_INFO"}};
constexpr Named kShmCmds[] = {{0, "IPC_RMID"}, {1, "IPC_SET"},   {2, "IPC_STAT"},  {3, "IPC_INFO"},
                              {11, "SHM_LOCK"}, {12, "SHM_UNLOCK"}, {13, "SHM_STAT"}, {14, "SHM_INFO"},
                              {15, "SHM_STAT_ANY"}};
constexpr Named kSemCmds[] = {{0, "IPC_RMID"}, {1, "IPC_SET"},   {2, "IPC_STAT"},  {3, "IPC_INFO"},
                              {11, "GETPID"},   {12, "GETVAL"},    {13, "GETALL"},   {14, "GETNCNT"},
                              {15, "GETZCNT"},  {16, "SETVAL"},    {17, "SETALL"},   {18, "SEM_STAT"},
                              {19, "SEM_INFO"}, {20, "SEM_STAT_ANY"}};
constexpr Named kMsgCmds[] = {{0, "IPC_RMID"}, {1, "IPC_SET"}, {2, "IPC_STAT"}, {3, "IPC_INFO"},
                              {11, "MSG_STAT"}, {12, "MSG_INFO"}, {13, "MSG_STAT_ANY"}};

// A key: IPC_PRIVATE or its hex.
Value key_value(const Ctx& c, int i) {
  auto k = static_cast<uint32_t>(c.arg(i));
  return Value::txt(k == 0 ? "IPC_PRIVATE" : c_hex(k));
}
// "IPC_CREAT|0600": the flags, then the permission bits in octal.
template <size_t N>
std::string get_flags(uint64_t v, const Named (&t)[N]) {
  std::string f = flags(v & ~0777ull, t, "");
  std::string mode = octal(v & 0777);
  return f.empty() ? mode : f + "|" + mode;
}
// A command, with IPC_64 (0x100) named when set.
template <size_t N>
std::string cmd_text(uint64_t v, const Named (&t)[N], const char* prefix) {
  std::string s = (v & 0x100) ? "IPC_64|" : "";
  return s + xlat(v & ~0x100ull, t, prefix, false);
}

void shmget_(Ctx& c) {
  c.push(key_value(c, 0));
  c.push(c.ulong(1));
  c.push(get_flags(c.arg(2), kShmGetFlags));
}
void shmat_(Ctx& c) {
  c.push(c.integer(0));
  c.push(c.ptr(1));
  c.push(flags(c.arg(2), kShmAtFlags));
  c.result(ResultStyle::kHex);
}
void shmdt_(Ctx& c) { c.push(c.ptr(0)); }
void shmctl_(Ctx& c) {
  c.push(c.integer(0));
  c.push(cmd_text(c.arg(1), kShmCmds, "SHM_"));
  c.push(c.ptr(2));
}
void semget_(Ctx& c) {
  c.push(key_value(c, 0));
  c.push(c.integer(1));
  c.push(get_flags(c.arg(2), kIpcGetFlags));
}
// [{sem_num=0, sem_op=1, sem_flg=0}]
Value sembufs(const Ctx& c, int i, uint64_t n) {
  const Blob* b = c.blob(i);
  if (!b || b->status != dune::trace_wire::kCapOk) return c.ptr(i);
  Value arr = Value::array();
  size_t have = b->bytes.size() / 6;
  for (size_t k = 0; k < have; ++k) {
    const auto* p = reinterpret_cast<const uint8_t*>(b->bytes.data()) + 6 * k;
    Value e = Value::record();
    e.add("sem_num", Value::txt(std::to_string(load<uint16_t>(p, 0))));
    e.add("sem_op", Value::txt(std::to_string(load<int16_t>(p, 2))));
    e.add("sem_flg", Value::txt(flags(load<uint16_t>(p, 4), kSemFlags)));
    arr.add(std::move(e));
  }
  arr.truncated = have < n;
  return arr;
}
void semop_(Ctx& c) {
  c.push(c.integer(0));
  c.push(sembufs(c, 1, c.arg(2)));
  c.push(c.ulong(2));
}
void semtimedop_(Ctx& c) {
  semop_(c);
  const uint8_t* t = c.arg(3) ? c.object(3, 16) : nullptr;
  c.push(t ? timespec_value(t) : c.ptr(3));
}
void semctl_(Ctx& c) {
  c.push(c.integer(0));
  c.push(c.integer(1));
  c.push(cmd_text(c.arg(2), kSemCmds, "SEM_"));
  c.push(c.ptr(3));
}
void msgget_(Ctx& c) {
  c.push(key_value(c, 0));
  c.push(get_flags(c.arg(1), kIpcGetFlags));
}
// {mtype=1, mtext="hi\0"}: the type, then size bytes of text.
Value msgbuf(const Ctx& c, int i, uint64_t size) {
  const Blob* b = c.blob(i);
  if (!b || b->status != dune::trace_wire::kCapOk || b->bytes.size() < 8) return c.ptr(i);
  Value v = Value::record();
  v.add("mtype", Value::txt(std::to_string(load<int64_t>(reinterpret_cast<const uint8_t*>(b->bytes.data()), 0))));
  std::string text = b->bytes.substr(8);
  bool more = size > text.size();
  v.add("mtext", Value::str(std::move(text), more));
  return v;
}
void msgsnd_(Ctx& c) {
  c.push(c.integer(0));
  c.push(msgbuf(c, 1, c.arg(2)));
  c.push(c.ulong(2));
  c.push(flags(c.arg(3), kMsgFlags));
}
void msgrcv_(Ctx& c) {
  c.push(c.integer(0));
  c.push(c.ok() ? msgbuf(c, 1, c.arg(2)) : c.ptr(1));
  c.push(c.ulong(2));
  c.push(c.lng(3));
  c.push(flags(c.arg(4), kMsgFlags));
}
void msgctl_(Ctx& c) {
  c.push(c.integer(0));
  c.push(cmd_text(c.arg(1), kMsgCmds, "MSG_"));
  c.push(c.ptr(2));
}

// POSIX message queues: the name as given (glibc drops the leading '/').
void mq_open_(Ctx& c) {
  c.push(c.path(0));
  c.push(open_flags(c.arg(1)));
  if (!(c.arg(1) & 0100 /* O_CREAT */)) return;
  c.push(octal(c.arg(2)));
  const uint8_t* a = c.arg(3) ? c.object(3, 32) : nullptr;
  if (!a) {
    c.push(c.ptr(3));
    return;
  }
  Value v = Value::record();
  v.add("mq_flags", Value::txt(load<int64_t>(a, 0) & 04000 ? "O_NONBLOCK" : "0"));
  v.add("mq_maxmsg", Value::txt(std::to_string(load<int64_t>(a, 8))));
  v.add("mq_msgsize", Value::txt(std::to_string(load<int64_t>(a, 16))));
  v.add("mq_curmsgs", Value::txt(std::to_string(load<int64_t>(a, 24))));
  c.push(std::move(v));
}
void mq_unlink_(Ctx& c) { c.push(c.path(0)); }
Value abs_timeout(const Ctx& c, int i) {
  const uint8_t* t = c.arg(i) ? c.object(i, 16) : nullptr;
  return t ? timespec_value(t) : c.ptr(i);
}
void mq_timedsend_(Ctx& c) {
  c.push(c.fd(0));
  c.push(c.bytes(1, c.arg(2)));
  c.push(c.ulong(2));
  c.push(c.ulong(3));
  c.push(abs_timeout(c, 4));
}
void mq_timedreceive_(Ctx& c) {
  c.push(c.fd(0));
  c.push(c.filled(1));
  c.push(c.ulong(2));
  uint32_t prio;
  if (c.ok() && c.arg(3) && c.read(3, &prio))
    c.push(Value::array().add(Value::txt(std::to_string(prio))));
  else
    c.push(c.ptr(3));
  c.push(abs_timeout(c, 4));
}

}  // namespace

const DecoderEntry kIpcDecoders[] = {
    {SYS_shmget, shmget_},   {SYS_shmat, shmat_},     {SYS_shmdt, shmdt_},       {SYS_shmctl, shmctl_},
    {SYS_semget, semget_},   {SYS_semop, semop_},     {SYS_semtimedop, semtimedop_}, {SYS_semctl, semctl_},
    {SYS_msgget, msgget_},   {SYS_msgsnd, msgsnd_},   {SYS_msgrcv, msgrcv_},     {SYS_msgctl, msgctl_},
    {SYS_mq_open, mq_open_}, {SYS_mq_unlink, mq_unlink_}, {SYS_mq_timedsend, mq_timedsend_},
    {SYS_mq_timedreceive, mq_timedreceive_},
};
const size_t kIpcDecodersCount = sizeof kIpcDecoders / sizeof kIpcDecoders[0];

}  // namespace dunetrace::decode
