// gdb_commands.cpp - the remote protocol's commands, answered while every
// thread is parked: registers, memory, breakpoints, threads, resume, detach.
#include <csignal>
#include <cstring>

#include "base/log.h"
#include "base/raw_syscall.h"
#include "debug/gdb_connection.h"
#include "debug/gdb_registers.h"
#include "debug/gdb_signals.h"
#include "debug/hw_breakpoints.h"
#include "debug/target_memory.h"
#include "runtime/guest_thread.h"

namespace dune::debug {

namespace {

constexpr size_t kPacketSize = 0x4000;   // what qSupported announces
constexpr size_t kMaxMemory = 0x1800;    // bytes per m/M, within it as hex

bool starts_with(std::string_view s, std::string_view p) { return s.substr(0, p.size()) == p; }

// A thread id as gdb sends it: hex, "-1" (all) or "0" (any).
bool parse_tid(std::string_view s, int* out) {
  if (s == "-1") {
    *out = -1;
    return true;
  }
  uint64_t v;
  if (!rsp::parse_hex_number(s, &v) || v > 0x7fffffff) return false;
  *out = static_cast<int>(v);
  return true;
}

// "addr,len" (and what follows, after a ':' for M and X).
bool parse_addr_len(std::string_view s, uint64_t* addr, uint64_t* len, std::string_view* rest) {
  size_t comma = s.find(',');
  if (comma == std::string_view::npos) return false;
  size_t colon = s.find(':', comma);
  std::string_view len_text = s.substr(comma + 1, colon == std::string_view::npos ? s.npos : colon - comma - 1);
  if (!rsp::parse_hex_number(s.substr(0, comma), addr) || !rsp::parse_hex_number(len_text, len)) return false;
  *rest = colon == std::string_view::npos ? std::string_view{} : s.substr(colon + 1);
  return true;
}

// The answer to a qXfer read of a document: "m"/"l" and the slice "off,len".
rsp::Text xfer_slice(std::string_view doc, std::string_view range) {
  uint64_t off, len;
  std::string_view rest;
  if (!parse_addr_len(range, &off, &len, &rest)) return rsp::Text("E01", host_arena());
  rsp::Text out = rsp::text();
  if (off >= doc.size()) return rsp::Text("l", host_arena());
  std::string_view part = doc.substr(off, len);
  out.push_back(off + part.size() >= doc.size() ? 'l' : 'm');
  out.append(part);
  return out;
}

GuestThread* thread_for(const Connection& c, int tid) {
  GuestThread* t = parked_thread(tid > 0 ? tid : c.stop.tid);
  return t ? t : parked_thread(0);
}

void list_threads(rsp::Text& out) {
  out.push_back('m');
  bool first = true;
  struct Ctx {
    rsp::Text* out;
    bool* first;
  } ctx{&out, &first};
  for_each_parked(
      [](GuestThread& t, void* p) {
        auto* c = static_cast<Ctx*>(p);
        if (!*c->first) c->out->push_back(',');
        *c->first = false;
        c->out->append(rsp::hex_number(static_cast<uint64_t>(t.tid())));
      },
      &ctx);
}

// A /proc file of this process (auxv, the exe's path) for qXfer.
rsp::Text proc_document(const char* what) {
  char buf[4096];
  long n;
  if (!std::strcmp(what, "exe")) {
    n = sys::syscall6(SYS_readlink, reinterpret_cast<long>("/proc/thread-self/exe"), reinterpret_cast<long>(buf),
                      sizeof buf);
  } else {
    n = sys::read_small_file("/proc/thread-self/auxv", buf, sizeof buf);
  }
  return n > 0 ? rsp::Text(buf, static_cast<size_t>(n), host_arena()) : rsp::text();
}

// QPassSignals:0e;1a;... (gdb's numbers): the Linux signals to hand on unreported.
uint64_t parse_pass_signals(std::string_view list) {
  uint64_t mask = 0;
  while (!list.empty()) {
    size_t semi = list.find(';');
    uint64_t g;
    if (rsp::parse_hex_number(list.substr(0, semi), &g)) {
      int s = gdb::signal_from_gdb(static_cast<int>(g));
      if (s >= 1 && s <= 64) mask |= 1ull << (s - 1);
    }
    if (semi == std::string_view::npos) break;
    list.remove_prefix(semi + 1);
  }
  return mask;
}

// One vCont action ("c", "C05", "s", "S0b", with ":tid" or not).
bool parse_action(std::string_view a, ResumeAction* out) {
  size_t colon = a.find(':');
  std::string_view what = a.substr(0, colon);
  *out = ResumeAction{};
  if (colon != std::string_view::npos && !parse_tid(a.substr(colon + 1), &out->tid)) return false;
  if (out->tid == 0) out->tid = -1;
  if (what.empty()) return false;
  char kind = what[0];
  if (kind == 'c' || kind == 's') {
    out->action = kind == 's' ? Action::kStep : Action::kContinue;
    return what.size() == 1;
  }
  if (kind == 'C' || kind == 'S') {
    uint64_t g;
    if (!rsp::parse_hex_number(what.substr(1), &g)) return false;
    out->action = kind == 'S' ? Action::kStep : Action::kContinue;
    out->signo = gdb::signal_from_gdb(static_cast<int>(g));
    return true;
  }
  return false;
}

After resume_legacy(Connection& c, std::string_view p, ResumeAction* actions, int* n) {
  // c, C sig[;addr], s, S sig[;addr]: the Hc thread (or the stop's) steps or
  // gets the signal; every other thread continues.
  char kind = p[0];
  ResumeAction a;
  a.tid = c.c_tid > 0 ? c.c_tid : c.stop.tid;
  a.action = (kind == 's' || kind == 'S') ? Action::kStep : Action::kContinue;
  std::string_view rest = p.substr(1);
  if (kind == 'C' || kind == 'S') {
    uint64_t g;
    if (!rsp::parse_hex_number(rest.substr(0, rest.find(';')), &g)) return After::kStay;
    a.signo = gdb::signal_from_gdb(static_cast<int>(g));
  } else if (!rest.empty()) {
    return After::kStay;  // c ADDR: resuming elsewhere, not offered
  }
  actions[0] = a;
  actions[1] = ResumeAction{};
  *n = 2;
  return After::kResume;
}

}  // namespace

rsp::Text stop_reply(const StopReport& s) {
  rsp::Text out = rsp::text();
  int sig = s.why == Why::kSignal || s.why == Why::kRequest ? s.signo : SIGTRAP;
  uint8_t g = static_cast<uint8_t>(gdb::signal_to_gdb(sig));
  out.push_back('T');
  rsp::append_hex(out, &g, 1);
  if (s.tid > 0) {
    out.append("thread:");
    out.append(rsp::hex_number(static_cast<uint64_t>(s.tid)));
    out.push_back(';');
  }
  if (s.watch == 'h') {
    out.append("hwbreak:;");
  } else if (s.watch) {
    out.append(s.watch == 'w' ? "watch:" : s.watch == 'r' ? "rwatch:" : "awatch:");
    out.append(rsp::hex_number(s.watch_addr));
    out.push_back(';');
  } else if (s.why == Why::kBreakpoint) {
    out.append("swbreak:;");
  }
  return out;
}

After handle_packet(Connection& c, std::string_view p, ResumeAction* actions, int* n, int max_actions) {
  rsp::Text reply = rsp::text();
  auto ok = [&] { reply = "OK"; };
  auto error = [&] { reply = "E01"; };
  After after = After::kStay;
  if (p.empty()) {
  } else if (p == "?") {
    reply = stop_reply(c.stop);
  } else if (starts_with(p, "qSupported")) {
    reply = "PacketSize=";
    reply.append(rsp::hex_number(kPacketSize));
    reply.append(";qXfer:features:read+;qXfer:auxv:read+;qXfer:exec-file:read+;qXfer:siginfo:read+;"
                 "QStartNoAckMode+;"
                 "QPassSignals+;vContSupported+;swbreak+;hwbreak+");
  } else if (p == "QStartNoAckMode") {
    ok();
    send_packet(c, reply);
    c.ack = false;
    return After::kStay;
  } else if (starts_with(p, "QPassSignals:")) {
    set_pass_signals(parse_pass_signals(p.substr(13)));
    ok();
  } else if (p == "qAttached" || starts_with(p, "qAttached:")) {
    reply = "0";  // as gdbserver for a program it started: quitting gdb ends it
  } else if (p == "qC") {
    reply = "QC";
    reply.append(rsp::hex_number(static_cast<uint64_t>(c.stop.tid)));
  } else if (p == "qfThreadInfo") {
    list_threads(reply);
  } else if (p == "qsThreadInfo") {
    reply = "l";
  } else if (starts_with(p, "qXfer:features:read:target.xml:")) {
    reply = xfer_slice(gdb::target_xml(), p.substr(31));
  } else if (starts_with(p, "qXfer:auxv:read::")) {
    rsp::Text doc = proc_document("auxv");
    reply = xfer_slice(doc, p.substr(17));
  } else if (starts_with(p, "qXfer:exec-file:read:")) {
    std::string_view rest = p.substr(21);
    rsp::Text doc = proc_document("exe");
    reply = xfer_slice(doc, rest.substr(rest.find(':') + 1));
  } else if (starts_with(p, "qXfer:siginfo:read::")) {
    if (c.stop.why != Why::kSignal) error();
    else reply = xfer_slice(std::string_view(reinterpret_cast<const char*>(&c.stop.info), sizeof(siginfo_t)), p.substr(20));
  } else if (p == "qSymbol::") {
    ok();
  } else if (p[0] == 'H' && p.size() >= 2) {
    int tid;
    if (!parse_tid(p.substr(2), &tid)) {
      error();
    } else {
      (p[1] == 'g' ? c.g_tid : c.c_tid) = tid;
      ok();
    }
  } else if (p[0] == 'T') {
    int tid;
    if (parse_tid(p.substr(1), &tid) && tid > 0 && parked_thread(tid)) ok();
    else error();
  } else if (p == "g") {
    GuestThread* t = thread_for(c, c.g_tid);
    if (t) gdb::read_all(t->debug().regs, reply);
    else error();
  } else if (p[0] == 'G') {
    GuestThread* t = thread_for(c, c.g_tid);
    if (t && gdb::write_all(t->debug().regs, p.substr(1))) ok();
    else error();
  } else if (p[0] == 'p') {
    uint64_t regnum;
    GuestThread* t = thread_for(c, c.g_tid);
    if (!t || !rsp::parse_hex_number(p.substr(1), &regnum)) error();
    else if (!gdb::read_register(t->debug().regs, static_cast<int>(regnum), reply)) error();
  } else if (p[0] == 'P') {
    size_t eq = p.find('=');
    uint64_t regnum;
    GuestThread* t = thread_for(c, c.g_tid);
    if (!t || eq == std::string_view::npos || !rsp::parse_hex_number(p.substr(1, eq - 1), &regnum) ||
        !gdb::write_register(t->debug().regs, static_cast<int>(regnum), p.substr(eq + 1)))
      error();
    else
      ok();
  } else if (p[0] == 'm') {
    uint64_t addr, len;
    std::string_view rest;
    if (!parse_addr_len(p.substr(1), &addr, &len, &rest)) {
      error();
    } else {
      if (len > kMaxMemory) len = kMaxMemory;
      uint8_t buf[kMaxMemory];
      size_t got = read_target(addr, buf, len);
      hide_breakpoints(addr, buf, got);
      if (got == 0 && len) reply = "E14";
      else rsp::append_hex(reply, buf, got);
    }
  } else if (p[0] == 'M' || p[0] == 'X') {
    uint64_t addr, len;
    std::string_view data;
    if (!parse_addr_len(p.substr(1), &addr, &len, &data) || len > kPacketSize) {
      error();
    } else {
      uint8_t buf[kPacketSize];
      bool good = p[0] == 'X' ? data.size() == len : rsp::parse_hex_bytes(data, buf, len);
      if (p[0] == 'X' && good) std::memcpy(buf, data.data(), len);
      if (good && (len == 0 || write_target(addr, buf, len) == len)) ok();
      else reply = "E14";
    }
  } else if ((p[0] == 'Z' || p[0] == 'z') && p.size() > 2 && p[1] == '0' && p[2] == ',') {
    uint64_t addr, kind;
    std::string_view rest;
    if (!parse_addr_len(p.substr(3), &addr, &kind, &rest)) error();
    else if (p[0] == 'Z' ? insert_breakpoint(addr) : remove_breakpoint(addr)) ok();
    else error();
  } else if ((p[0] == 'Z' || p[0] == 'z') && p.size() > 2 && p[1] >= '1' && p[1] <= '4' && p[2] == ',') {
    uint64_t addr, len;
    std::string_view rest;
    HwKind kinds[] = {HwKind::kExec, HwKind::kWrite, HwKind::kRead, HwKind::kAccess};
    HwKind kind = kinds[p[1] - '1'];
    if (!parse_addr_len(p.substr(3), &addr, &len, &rest)) {
      error();
    } else {
      int r = p[0] == 'Z' ? insert_hw(kind, addr, len) : remove_hw(kind, addr, len);
      if (r == -ENOTSUP) {
        reply.clear();
        static bool said = false;
        if (!said) {
          said = true;
          log::warn("gdb: no hardware breakpoints or watchpoints on this host (PVM, AMD-V, the module); "
                    "in gdb: set can-use-hw-watchpoints 0");
        }
      }
      else if (r == 0) ok();
      else error();
    }
  } else if (p == "vCont?") {
    reply = "vCont;c;C;s;S";
  } else if (starts_with(p, "vCont;")) {
    std::string_view list = p.substr(6);
    *n = 0;
    bool good = true;
    while (!list.empty() && good) {
      size_t semi = list.find(';');
      if (*n < max_actions) good = parse_action(list.substr(0, semi), &actions[(*n)++]);
      if (semi == std::string_view::npos) break;
      list.remove_prefix(semi + 1);
    }
    if (good && *n > 0) return After::kResume;
    error();
  } else if (p[0] == 'c' || p[0] == 'C' || p[0] == 's' || p[0] == 'S') {
    after = resume_legacy(c, p, actions, n);
    if (after == After::kResume) return after;
    error();
  } else if (p[0] == 'D') {
    ok();
    send_packet(c, reply);
    return After::kDetach;
  } else if (p == "k" || starts_with(p, "vKill")) {
    if (p[0] == 'v') send_packet(c, "OK");
    return After::kKill;
  }
  // Anything else: the empty reply, "not supported".
  send_packet(c, reply);
  return after;
}

}  // namespace dune::debug
