// decode_creds.cpp - supplementary groups and capabilities (the uid/gid
// setters are plain numbers, in decode_process).
#include <fmt/format.h>
#include <sys/syscall.h>

#include "decoder.h"

namespace dunetrace::decode {

namespace {

const char* const kCapNames[] = {
    "CAP_CHOWN",          "CAP_DAC_OVERRIDE", "CAP_DAC_READ_SEARCH", "CAP_FOWNER",          "CAP_FSETID",
    "CAP_KILL",           "CAP_SETGID",       "CAP_SETUID",          "CAP_SETPCAP",         "CAP_LINUX_IMMUTABLE",
    "CAP_NET_BIND_SERVICE", "CAP_NET_BROADCAST", "CAP_NET_ADMIN",    "CAP_NET_RAW",         "CAP_IPC_LOCK",
    "CAP_IPC_OWNER",      "CAP_SYS_MODULE",   "CAP_SYS_RAWIO",       "CAP_SYS_CHROOT",      "CAP_SYS_PTRACE",
    "CAP_SYS_PACCT",      "CAP_SYS_ADMIN",    "CAP_SYS_BOOT",        "CAP_SYS_NICE",        "CAP_SYS_RESOURCE",
    "CAP_SYS_TIME",       "CAP_SYS_TTY_CONFIG", "CAP_MKNOD",         "CAP_LEASE",           "CAP_AUDIT_WRITE",
    "CAP_AUDIT_CONTROL",  "CAP_SETFCAP",      "CAP_MAC_OVERRIDE",    "CAP_MAC_ADMIN",       "CAP_SYSLOG",
    "CAP_WAKE_ALARM",     "CAP_BLOCK_SUSPEND", "CAP_AUDIT_READ",     "CAP_PERFMON",         "CAP_BPF",
    "CAP_CHECKPOINT_RESTORE",
};
constexpr Named kCapVersions[] = {{0x19980330, "_LINUX_CAPABILITY_VERSION_1"},
                                  {0x20071026, "_LINUX_CAPABILITY_VERSION_2"},
                                  {0x20080522, "_LINUX_CAPABILITY_VERSION_3"}};

// "1<<CAP_CHOWN|1<<CAP_KILL", "0".
std::string cap_set(uint64_t v) {
  if (!v) return "0";
  std::string s;
  for (unsigned bit = 0; bit < 64; ++bit) {
    if (!((v >> bit) & 1)) continue;
    if (!s.empty()) s += '|';
    s += bit < std::size(kCapNames) ? std::string("1<<") + kCapNames[bit] : fmt::format("1<<{}", bit);
  }
  return s;
}

// The header; and the data: two 32-bit halves for versions 2 and 3.
void cap_args(Ctx& c, bool data_filled) {
  const uint8_t* h = c.object(0, 8);
  if (!h) {
    c.push(c.ptr(0));
  } else {
    Value v = Value::record();
    v.add("version", Value::txt(xlat(load<uint32_t>(h, 0), kCapVersions, nullptr, true)));
    v.add("pid", Value::txt(std::to_string(load<int32_t>(h, 4))));
    c.push(std::move(v));
  }
  const uint8_t* d = c.arg(1) && data_filled ? c.object(1, 12) : nullptr;
  if (!d) {
    c.push(c.ptr(1));
    return;
  }
  const uint8_t* hi = c.object(1, 24) && h && load<uint32_t>(h, 0) != 0x19980330 ? d + 12 : nullptr;
  auto field = [&](size_t off) {
    uint64_t v = load<uint32_t>(d, off);
    if (hi) v |= uint64_t{load<uint32_t>(hi, off)} << 32;
    return Value::txt(cap_set(v));
  };
  Value v = Value::record();
  v.add("effective", field(0));
  v.add("permitted", field(4));
  v.add("inheritable", field(8));
  c.push(std::move(v));
}
void capget_(Ctx& c) { cap_args(c, c.ok()); }
void capset_(Ctx& c) { cap_args(c, true); }

// [0, 4, 27]
Value gid_list(const Ctx& c, int i, uint64_t n) {
  const Blob* b = c.blob(i);
  if (!b || b->status != dune::trace_wire::kCapOk) return c.ptr(i);
  Value arr = Value::array();
  size_t have = b->bytes.size() / 4;
  for (size_t k = 0; k < have && k < n; ++k)
    arr.add(Value::txt(std::to_string(load<uint32_t>(reinterpret_cast<const uint8_t*>(b->bytes.data()), 4 * k))));
  return arr;
}
void getgroups_(Ctx& c) {
  c.push(c.integer(0));
  if (c.ok() && c.arg(0))
    c.push(gid_list(c, 1, static_cast<uint64_t>(c.ret())));
  else
    c.push(c.ptr(1));
}
void setgroups_(Ctx& c) {
  c.push(c.integer(0));
  c.push(gid_list(c, 1, c.arg(0)));
}

}  // namespace

const DecoderEntry kCredsDecoders[] = {
    {SYS_capget, capget_},       {SYS_capset, capset_},
    {SYS_getgroups, getgroups_}, {SYS_setgroups, setgroups_},
};
const size_t kCredsDecodersCount = sizeof kCredsDecoders / sizeof kCredsDecoders[0];

}  // namespace dunetrace::decode
