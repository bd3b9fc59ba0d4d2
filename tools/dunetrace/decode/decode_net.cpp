// decode_net.cpp - sockets: families, types, addresses, options, messages.
#include <arpa/inet.h>
#include <fmt/format.h>
#include <sys/syscall.h>

#include "decoder.h"

namespace dunetrace::decode {

namespace {

constexpr Named kFamilies[] = {{0, "AF_UNSPEC"}, {1, "AF_UNIX"},    {2, "AF_INET"},     {10, "AF_INET6"},
                               {16, "AF_NETLINK"}, {17, "AF_PACKET"}, {40, "AF_VSOCK"}, {38, "AF_ALG"}};
constexpr Named kSockTypes[] = {{1, "SOCK_STREAM"}, {2, "SOCK_DGRAM"},     {3, "SOCK_RAW"},
                                {4, "SOCK_RDM"},    {5, "SOCK_SEQPACKET"}, {10, "SOCK_PACKET"}};
constexpr Named kSockFlags[] = {{02000000, "SOCK_CLOEXEC"}, {04000, "SOCK_NONBLOCK"}};
constexpr Named kIpProtos[] = {{0, "IPPROTO_IP"}, {1, "IPPROTO_ICMP"}, {6, "IPPROTO_TCP"}, {17, "IPPROTO_UDP"},
                               {58, "IPPROTO_ICMPV6"}, {132, "IPPROTO_SCTP"}, {255, "IPPROTO_RAW"}};
constexpr Named kNetlink[] = {{0, "NETLINK_ROUTE"}, {9, "NETLINK_AUDIT"}, {15, "NETLINK_KOBJECT_UEVENT"}};
constexpr Named kMsgFlags[] = {
    {1, "MSG_OOB"},        {2, "MSG_PEEK"},        {4, "MSG_DONTROUTE"},    {8, "MSG_CTRUNC"},
    {0x10, "MSG_PROXY"},   {0x20, "MSG_TRUNC"},    {0x40, "MSG_DONTWAIT"},  {0x80, "MSG_EOR"},
    {0x100, "MSG_WAITALL"}, {0x200, "MSG_FIN"},    {0x400, "MSG_SYN"},      {0x800, "MSG_CONFIRM"},
    {0x1000, "MSG_RST"},   {0x2000, "MSG_ERRQUEUE"}, {0x4000, "MSG_NOSIGNAL"}, {0x8000, "MSG_MORE"},
    {0x10000, "MSG_WAITFORONE"}, {0x40000, "MSG_BATCH"}, {0x4000000, "MSG_ZEROCOPY"},
    {0x20000000, "MSG_FASTOPEN"}, {0x40000000, "MSG_CMSG_CLOEXEC"},
};
constexpr Named kShut[] = {{0, "SHUT_RD"}, {1, "SHUT_WR"}, {2, "SHUT_RDWR"}};
constexpr Named kLevels[] = {{1, "SOL_SOCKET"}, {0, "SOL_IP"}, {6, "SOL_TCP"}, {17, "SOL_UDP"}, {41, "SOL_IPV6"}};
constexpr Named kSockOpts[] = {
    {1, "SO_DEBUG"},      {2, "SO_REUSEADDR"}, {3, "SO_TYPE"},       {4, "SO_ERROR"},     {5, "SO_DONTROUTE"},
    {6, "SO_BROADCAST"},  {7, "SO_SNDBUF"},    {8, "SO_RCVBUF"},     {9, "SO_KEEPALIVE"}, {10, "SO_OOBINLINE"},
    {13, "SO_LINGER"},    {15, "SO_REUSEPORT"}, {16, "SO_PASSCRED"}, {17, "SO_PEERCRED"}, {20, "SO_RCVTIMEO_OLD"},
    {21, "SO_SNDTIMEO_OLD"}, {32, "SO_SNDBUFFORCE"}, {33, "SO_RCVBUFFORCE"}, {38, "SO_PROTOCOL"}, {39, "SO_DOMAIN"},
};
constexpr Named kTcpOpts[] = {{1, "TCP_NODELAY"}, {2, "TCP_MAXSEG"}, {3, "TCP_CORK"}, {4, "TCP_KEEPIDLE"},
                              {5, "TCP_KEEPINTVL"}, {6, "TCP_KEEPCNT"}};

template <typename T>
T at(const std::string& s, size_t off) {
  T v{};
  if (off + sizeof v <= s.size()) std::memcpy(&v, s.data() + off, sizeof v);
  return v;
}

Value sockaddr_from(const std::string& b, uint64_t len) {
  Value v = Value::record();
  if (len < 2 || b.size() < 2) return Value::txt("{}");
  auto fam = at<uint16_t>(b, 0);
  v.add("sa_family", Value::txt(xlat(fam, kFamilies, "AF_", false)));
  size_t n = len < b.size() ? len : b.size();
  switch (fam) {
    case 1: {  // AF_UNIX: a path, or an abstract name after a NUL
      std::string path = b.substr(2, n > 2 ? n - 2 : 0);
      if (!path.empty() && path[0] == '\0') {
        Value name = Value::str(path.substr(1));
        name.whole = true;
        v.add("sun_path", Value::txt("@" + render_text(name, -1)));
      } else if (n > 2) {
        path.resize(path.find('\0') == std::string::npos ? path.size() : path.find('\0'));
        Value p = Value::str(path);
        p.whole = true;
        v.add("sun_path", std::move(p));
      }
      break;
    }
    case 2: {
      char ip[INET_ADDRSTRLEN] = {};
      uint32_t addr = at<uint32_t>(b, 4);
      inet_ntop(AF_INET, &addr, ip, sizeof ip);
      v.add("sin_port", Value::txt(fmt::format("htons({})", ntohs(at<uint16_t>(b, 2)))));
      v.add("sin_addr", Value::txt(fmt::format("inet_addr(\"{}\")", ip)));
      break;
    }
    case 10: {
      char ip[INET6_ADDRSTRLEN] = {};
      if (b.size() >= 24) inet_ntop(AF_INET6, b.data() + 8, ip, sizeof ip);
      v.add("sin6_port", Value::txt(fmt::format("htons({})", ntohs(at<uint16_t>(b, 2)))));
      v.add("sin6_flowinfo", Value::txt(fmt::format("htonl({})", ntohl(at<uint32_t>(b, 4)))));
      v.add("", Value::txt(fmt::format("inet_pton(AF_INET6, \"{}\", &sin6_addr)", ip)));
      v.add("sin6_scope_id", Value::txt(std::to_string(at<uint32_t>(b, 24))));
      break;
    }
    case 16:
      v.add("nl_pid", Value::txt(std::to_string(at<uint32_t>(b, 4))));
      v.add("nl_groups", Value::txt(fmt::format("{:08x}", at<uint32_t>(b, 8))));
      break;
    default: v.truncated = true; break;
  }
  return v;
}

Value sockaddr_arg(Ctx& c, int i, uint64_t len) {
  const Blob* b = c.blob(i);
  if (!c.arg(i) || !b || b->status != dune::trace_wire::kCapOk) return c.ptr(i);
  return sockaddr_from(b->bytes, len);
}

std::string sock_type(uint64_t t) {
  std::string s = xlat(t & 0xf, kSockTypes, "SOCK_");
  if (t & ~0xfull) s += "|" + flags(t & ~0xfull, kSockFlags);
  return s;
}

void socket_(Ctx& c) {
  uint64_t fam = c.arg(0) & 0xffff;
  c.push(xlat(fam, kFamilies, "AF_", false));
  c.push(sock_type(c.arg(1)));
  if (fam == 2 || fam == 10)
    c.push(xlat(c.arg(2), kIpProtos, "IPPROTO_", false));
  else if (fam == 16)
    c.push(xlat(c.arg(2), kNetlink, "NETLINK_", false));
  else
    c.push(c.integer(2));
}
void socketpair_(Ctx& c) {
  c.push(xlat(c.arg(0) & 0xffff, kFamilies, "AF_", false));
  c.push(sock_type(c.arg(1)));
  c.push(c.integer(2));
  int fds[2];
  if (c.ok() && c.read(3, &fds)) {
    Value arr = Value::array();
    arr.add(Value::txt(std::to_string(fds[0])));
    arr.add(Value::txt(std::to_string(fds[1])));
    c.push(std::move(arr));
  } else {
    c.push(c.ptr(3));
  }
}
void connect_(Ctx& c) {
  c.push(c.fd(0));
  c.push(sockaddr_arg(c, 1, c.arg(2)));
  c.push(c.integer(2));
}
void listen_(Ctx& c) {
  c.push(c.fd(0));
  c.push(c.integer(1));
}
// An address the kernel wrote and its in-out length (strace's
// decode_sockname): the address as long as both lengths allow, "[in => out]".
void sockname_pair(Ctx& c, int addr_i, int len_i) {
  uint32_t in = 0, out = 0;
  bool had_in = c.read(len_i, &in, true);
  if (!c.arg(addr_i) || !c.arg(len_i) || !had_in) {
    c.push(c.ptr(addr_i));
    c.push(c.ptr(len_i));
    return;
  }
  if (!c.ok() || !c.read(len_i, &out)) {
    c.push(c.ptr(addr_i));
    c.push(Value::array().add(Value::txt(std::to_string(in))));
    return;
  }
  c.push(sockaddr_arg(c, addr_i, in < out ? in : out));
  c.push(c.updated_int(len_i));
}
void accept_(Ctx& c) {
  c.push(c.fd(0));
  sockname_pair(c, 1, 2);
}
void accept4_(Ctx& c) {
  accept_(c);
  c.push(flags(c.arg(3), kSockFlags));
}
void getsockname_(Ctx& c) { accept_(c); }
void sendto_(Ctx& c) {
  c.push(c.fd(0));
  c.push(c.bytes(1, c.arg(2)));
  c.push(c.ulong(2));
  c.push(flags(c.arg(3), kMsgFlags));
  c.push(sockaddr_arg(c, 4, c.arg(5)));
  c.push(c.integer(5));
}
void recvfrom_(Ctx& c) {
  c.push(c.fd(0));
  c.push(c.filled(1));
  c.push(c.ulong(2));
  c.push(flags(c.arg(3), kMsgFlags));
  sockname_pair(c, 4, 5);
}

constexpr Named kScmTypes[] = {{1, "SCM_RIGHTS"}, {2, "SCM_CREDENTIALS"}, {3, "SCM_SECURITY"}, {29, "SCM_TIMESTAMP"}};

// The control messages of a msghdr: [{cmsg_len=20, cmsg_level=SOL_SOCKET,
// cmsg_type=SCM_RIGHTS, cmsg_data=[3]}].
Value cmsgs_value(const std::string& b) {
  Value arr = Value::array();
  for (size_t off = 0; off + 16 <= b.size();) {
    auto len = at<uint64_t>(b, off);
    auto level = at<int32_t>(b, off + 8), type = at<int32_t>(b, off + 12);
    Value m = Value::record();
    m.add("cmsg_len", Value::txt(std::to_string(len)));
    m.add("cmsg_level", Value::txt(xlat(static_cast<uint32_t>(level), kLevels, "SOL_", false)));
    m.add("cmsg_type", Value::txt(level == 1 ? xlat(static_cast<uint32_t>(type), kScmTypes, "SCM_", false)
                                             : std::to_string(type)));
    size_t data = len >= 16 ? len - 16 : 0;
    if (off + 16 + data > b.size()) data = b.size() - off - 16;
    if (level == 1 && type == 1) {
      Value fds = Value::array();
      for (size_t k = 0; k + 4 <= data; k += 4) fds.add(Value::txt(std::to_string(at<int32_t>(b, off + 16 + k))));
      m.add("cmsg_data", std::move(fds));
    } else if (level == 1 && type == 2 && data >= 12) {
      m.add("cmsg_data", Value::record()
                             .add("pid", Value::txt(std::to_string(at<int32_t>(b, off + 16))))
                             .add("uid", Value::txt(std::to_string(at<uint32_t>(b, off + 20))))
                             .add("gid", Value::txt(std::to_string(at<uint32_t>(b, off + 24)))));
    }
    arr.add(std::move(m));
    if (len < 16) break;
    off += (len + 7) & ~uint64_t{7};
  }
  return arr;
}

// struct msghdr as strace prints it; recvmsg's fields are what the kernel
// left, its name length "in => out" when it changed.
Value msghdr_value(Ctx& c, bool received) {
  const uint8_t* m = c.object(1, 56);
  if (!m || (received && !c.ok())) return c.ptr(1);
  uint64_t name = load<uint64_t>(m, 0), iovlen = load<uint64_t>(m, 24), control = load<uint64_t>(m, 32),
           controllen = load<uint64_t>(m, 40);
  uint32_t namelen = load<uint32_t>(m, 8), flags_v = load<uint32_t>(m, 48);
  const uint8_t* in = received ? c.object(1, 56, true) : nullptr;
  uint32_t namelen_in = in ? load<uint32_t>(in, 8) : namelen;
  Value v = Value::record();
  const Blob* nb = c.blob(dune::trace_wire::kMsgNameArg);
  uint32_t shown = namelen < namelen_in ? namelen : namelen_in;
  if (!name)
    v.add("msg_name", Value::txt("NULL"));
  else if (nb && nb->status == dune::trace_wire::kCapOk)
    v.add("msg_name", sockaddr_from(nb->bytes, shown));
  else
    v.add("msg_name", Value::txt(address(name)));
  if (namelen_in != namelen)
    v.add("msg_namelen", Value::update(Value::txt(std::to_string(namelen_in)), Value::txt(std::to_string(namelen))));
  else
    v.add("msg_namelen", Value::txt(std::to_string(namelen)));
  v.add("msg_iov", iovec_value(c, dune::trace_wire::kMsgIovArg, received, iovlen));
  v.add("msg_iovlen", Value::txt(std::to_string(iovlen)));
  if (controllen) {
    const Blob* cb = c.blob(dune::trace_wire::kMsgControlArg);
    v.add("msg_control", cb && cb->status == dune::trace_wire::kCapOk ? cmsgs_value(cb->bytes)
                                                                      : Value::txt(address(control)));
  }
  v.add("msg_controllen", Value::txt(std::to_string(controllen)));
  v.add("msg_flags", Value::txt(flags(flags_v, kMsgFlags)));
  return v;
}
void sendmsg_(Ctx& c) {
  c.push(c.fd(0));
  c.push(msghdr_value(c, false));
  c.push(flags(c.arg(2), kMsgFlags));
}
void recvmsg_(Ctx& c) {
  c.push(c.fd(0));
  c.push(msghdr_value(c, true));
  c.push(flags(c.arg(2), kMsgFlags));
}
void shutdown_(Ctx& c) {
  c.push(c.fd(0));
  c.push(xlat(c.arg(1), kShut, "SHUT_", false));
}
std::string opt_name(uint64_t level, uint64_t opt) {
  if (level == 1) return xlat(opt, kSockOpts, "SO_", false);
  if (level == 6) return xlat(opt, kTcpOpts, "TCP_", false);
  return std::to_string(opt);
}
void setsockopt_(Ctx& c) {
  c.push(c.fd(0));
  c.push(xlat(c.arg(1), kLevels, "SOL_", false));
  c.push(opt_name(c.arg(1), c.arg(2)));
  int v;
  if (c.arg(4) == 4 && c.read(3, &v))
    c.push(fmt::format("[{}]", v));
  else
    c.push(c.ptr(3));
  c.push(c.integer(4));
}
void getsockopt_(Ctx& c) {
  c.push(c.fd(0));
  c.push(xlat(c.arg(1), kLevels, "SOL_", false));
  c.push(opt_name(c.arg(1), c.arg(2)));
  uint32_t in = 0, out = 0;
  bool had_in = c.read(4, &in, true);
  int v;
  if (c.ok() && c.read(4, &out)) {
    if (out == 4 && c.read(3, &v))
      c.push(fmt::format("[{}]", v));
    else
      c.push(c.ptr(3));
    c.push(c.updated_int(4));
  } else {
    c.push(c.ptr(3));
    c.push(had_in ? Value::array().add(Value::txt(std::to_string(in))) : c.ptr(4));
  }
}

}  // namespace

const DecoderEntry kNetDecoders[] = {
    {SYS_socket, socket_},         {SYS_socketpair, socketpair_}, {SYS_connect, connect_},
    {SYS_bind, connect_},          {SYS_listen, listen_},         {SYS_accept, accept_},
    {SYS_accept4, accept4_},       {SYS_getsockname, getsockname_}, {SYS_getpeername, getsockname_},
    {SYS_sendto, sendto_},         {SYS_recvfrom, recvfrom_},     {SYS_sendmsg, sendmsg_},
    {SYS_recvmsg, recvmsg_},           {SYS_shutdown, shutdown_},     {SYS_setsockopt, setsockopt_},
    {SYS_getsockopt, getsockopt_},
};
const size_t kNetDecodersCount = sizeof kNetDecoders / sizeof kNetDecoders[0];

}  // namespace dunetrace::decode
