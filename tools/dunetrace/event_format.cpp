#include "event_format.h"

#include <dune/trace.h>
#include <fmt/format.h>
#include <sys/wait.h>

#include <csignal>

#include "json.h"
#include "names.h"
#include "syscall_decoder.h"
#include "syscall_format.h"

namespace dunetrace {

namespace {

using dune::trace_wire::TraceRecord;

const char* kind_name(uint32_t kind) {
  switch (kind) {
    case DUNE_EV_VMEXIT: return "exit";
    case DUNE_EV_SYSCALL: return "syscall";
    case DUNE_EV_FAULT:
    case DUNE_EV_HOSTFAULT: return "fault";
    case DUNE_EV_BADSTACK: return "badstack";
    case DUNE_EV_SIGNAL: return "signal";
    case DUNE_EV_THREAD: return "process";
    default: return "unknown";
  }
}

// Page-fault error code -> the access.
const char* access_of(uint64_t err) {
  if (err & 0x10) return "exec";
  return (err & 0x2) ? "write" : "read";
}

std::string location_text(const Location& l) {
  std::string s = fmt::format("{:#x}", l.ip);
  if (!l.symbol.function.empty() && l.symbol.has_offset)
    s += fmt::format(" {}+{:#x}", l.symbol.function, l.symbol.offset);
  else if (!l.symbol.function.empty())
    s += " " + l.symbol.function;
  else if (!l.module.empty())
    s += fmt::format(" ({}+{:#x})", l.module, l.module_offset);
  if (!l.symbol.file.empty()) s += fmt::format(" ({}:{})", l.symbol.file, l.symbol.line);
  return s;
}

std::string location_json(const Location& l) {
  JsonObject o;
  o.add("ip", hex(l.ip));
  if (!l.module.empty()) {
    o.add("module", l.module);
    o.add("module_offset", hex(l.module_offset));
  }
  if (!l.symbol.function.empty()) {
    o.add("function", l.symbol.function);
    if (l.symbol.has_offset) o.add("offset", hex(l.symbol.offset));
  }
  if (!l.symbol.file.empty()) {
    o.add("file", l.symbol.file);
    o.add("line", l.symbol.line);
  }
  return o.str();
}

std::string prot_or_unmapped(int32_t mapped, int32_t prot) {
  return mapped ? "mapped " + prot_string(prot) : std::string("not mapped");
}

bool has_cycles(uint32_t kind) { return kind == DUNE_EV_VMEXIT || kind == DUNE_EV_SYSCALL; }

// A signal sent by a process (kill, tgkill, sigqueue) carries the sender's
// pid and uid where a fault's carries the address.
bool from_a_process(int code) { return code == SI_USER || code == SI_TKILL || code == SI_QUEUE; }

}  // namespace

std::string si_code_name(int signo, int code) {
  switch (code) {
    case SI_USER: return "SI_USER";
    case SI_KERNEL: return "SI_KERNEL";
    case SI_QUEUE: return "SI_QUEUE";
    case SI_TIMER: return "SI_TIMER";
    case SI_MESGQ: return "SI_MESGQ";
    case SI_ASYNCIO: return "SI_ASYNCIO";
    case SI_TKILL: return "SI_TKILL";
    default: break;
  }
  if (signo == SIGSEGV && code == SEGV_MAPERR) return "SEGV_MAPERR";
  if (signo == SIGSEGV && code == SEGV_ACCERR) return "SEGV_ACCERR";
  if (signo == SIGBUS && code == BUS_ADRALN) return "BUS_ADRALN";
  if (signo == SIGBUS && code == BUS_ADRERR) return "BUS_ADRERR";
  if (signo == SIGFPE && code == FPE_INTDIV) return "FPE_INTDIV";
  if (signo == SIGILL && code == ILL_ILLOPN) return "ILL_ILLOPN";
  if (signo == SIGTRAP && code == TRAP_BRKPT) return "TRAP_BRKPT";
  if (signo == SIGCHLD && code >= CLD_EXITED && code <= CLD_CONTINUED) {
    static const char* const kCld[] = {"CLD_EXITED", "CLD_KILLED", "CLD_DUMPED", "CLD_TRAPPED", "CLD_STOPPED",
                                       "CLD_CONTINUED"};
    return kCld[code - CLD_EXITED];
  }
  if (signo == SIGILL && code == ILL_ILLOPC) return "ILL_ILLOPC";
  if (signo == SIGILL && code == ILL_PRVOPC) return "ILL_PRVOPC";
  if (signo == SIGTRAP && code == TRAP_TRACE) return "TRAP_TRACE";
  return std::to_string(code);
}

void syscall_call_of(const TraceRecord& r, std::string_view captures, decode::SyscallCall* out) {
  const dune_event& ev = r.event;
  out->nr = static_cast<long>(ev.u.syscall.nr);
  for (int i = 0; i < 6; ++i) out->args[i] = ev.u.syscall.args[i];
  out->ret = ev.u.syscall.ret;
  out->returned = !(ev.flags & DUNE_EVF_NO_RETURN);
  out->pid = ev.pid;
  if (!decode::parse_captures(captures, out)) out->blobs.clear();
  // -y's files travel as blobs of their own.
  for (auto it = out->blobs.begin(); it != out->blobs.end();) {
    if (it->sub == dune::trace_wire::kFdPathSub) {
      if (it->arg <= dune::trace_wire::kResultArg) out->fd_paths[it->arg] = it->bytes;
      it = out->blobs.erase(it);
    } else {
      ++it;
    }
  }
}

std::string EventFormatter::time_prefix(uint64_t tsc) const {
  if (!style_.timestamps && !style_.relative) return {};
  double hz = style_.tsc_hz > 0 ? style_.tsc_hz : 1e9;
  if (style_.relative) {
    double d = last_tsc_ && tsc >= last_tsc_ ? static_cast<double>(tsc - last_tsc_) / hz : 0;
    last_tsc_ = tsc;
    auto us = static_cast<int64_t>(d * 1e6);
    return fmt::format("{:6}.{:06} ", us / 1000000, us % 1000000);
  }
  double since = (static_cast<double>(tsc) - static_cast<double>(style_.anchor_tsc)) / hz;
  int64_t ns = style_.anchor_realtime_ns + static_cast<int64_t>(since * 1e9);
  int64_t sec = ns / 1000000000, usec = (ns % 1000000000) / 1000;
  if (style_.timestamps == 3) return fmt::format("{}.{:06} ", sec, usec);
  time_t t = static_cast<time_t>(sec);
  tm local{};
  localtime_r(&t, &local);
  std::string hms = fmt::format("{:02}:{:02}:{:02}", local.tm_hour, local.tm_min, local.tm_sec);
  return style_.timestamps == 2 ? fmt::format("{}.{:06} ", hms, usec) : hms + " ";
}

std::string EventFormatter::format(const EventData& e) const {
  const TraceRecord& r = *e.rec;
  const dune_event& ev = r.event;
  const auto& u = ev.u;
  std::string timing_text;
  double seconds = style_.tsc_hz > 0 ? static_cast<double>(ev.cycles) / style_.tsc_hz : 0;
  // strace's -T: seconds in angle brackets (cycles where the rate is unknown).
  if (style_.timing && has_cycles(ev.kind))
    timing_text = style_.tsc_hz > 0 ? fmt::format(" <{:.6f}>", seconds) : fmt::format(" <{} cycles>", ev.cycles);

  if (style_.json) {
    JsonObject o;
    o.add("event", kind_name(ev.kind));
    o.add("pid", ev.pid);
    o.add("tid", ev.tid);
    o.add("tsc", ev.tsc);
    switch (ev.kind) {
      case DUNE_EV_SYSCALL: {
        decode::SyscallCall call;
        syscall_call_of(r, e.captures, &call);
        decode::DecodeStyle ds{style_.string_limit, style_.fd_paths};
        decode::Decoded dec = decode::decode_syscall(call, ds);
        o.add("name", dec.name);
        o.add("nr", u.syscall.nr);
        o.add_raw("args", decode::args_json(dec, ds));
        std::string raw = "[";
        for (int i = 0; i < syscall_arity(static_cast<long>(u.syscall.nr)); ++i)
          raw += (i ? "," : "") + json_quote(format_syscall_arg(u.syscall.args[i]));
        o.add_raw("raw_args", raw + "]");
        if (!call.returned) {
          o.add_null("ret");
        } else {
          o.add("ret", u.syscall.ret);
          if (int err = syscall_error(u.syscall.ret)) o.add("error", errno_name(err));
        }
        o.add("result", decode::result_text(dec, call, ds).substr(2));
        break;
      }
      case DUNE_EV_VMEXIT:
        o.add("reason", exit_reason_name(u.vmexit.exit_kind));
        if (u.vmexit.exit_kind == DUNE_EXIT_EXCEPTION) o.add("vector", vector_name(u.vmexit.vector));
        o.add("kvm_reason", u.vmexit.kvm_reason);
        break;
      case DUNE_EV_FAULT:
        o.add("vector", vector_name(u.fault.vector));
        if (u.fault.vector == 14) {
          o.add("addr", hex(u.fault.addr));
          o.add("access", access_of(u.fault.err));
          o.add("mapped", u.fault.mapped != 0);
          if (u.fault.mapped) o.add("prot", prot_string(u.fault.prot));
        }
        o.add("error_code", hex(u.fault.err));
        o.add("outcome", fault_outcome_name(u.fault.outcome));
        if (u.fault.signo) o.add("signal", signal_name(u.fault.signo));
        break;
      case DUNE_EV_HOSTFAULT:
        o.add("vector", "host");
        if (u.hostfault.addr) {
          o.add("addr", hex(u.hostfault.addr));
          o.add("access", u.hostfault.is_write ? "write" : "read");
          o.add("mapped", u.hostfault.mapped != 0);
          if (u.hostfault.mapped) o.add("prot", prot_string(u.hostfault.prot));
        } else {
          o.add_null("addr");
        }
        o.add("outcome", fault_outcome_name(u.hostfault.outcome));
        o.add("signal", signal_name(u.hostfault.signo));
        break;
      case DUNE_EV_BADSTACK: {
        o.add("rsp", hex(u.badstack.rsp));
        if (u.badstack.map_end) {
          JsonObject m;
          m.add("start", hex(u.badstack.map_start));
          m.add("end", hex(u.badstack.map_end));
          m.add("prot", prot_string(u.badstack.map_prot));
          m.add("kind", map_kind_name(u.badstack.map_kind));
          if (!e.mapping_name.empty()) m.add("name", e.mapping_name);
          o.add_raw("mapping", m.str());
        } else {
          o.add_null("mapping");
        }
        JsonObject st;
        st.add("start", hex(u.badstack.stack_start));
        st.add("end", hex(u.badstack.stack_end));
        o.add_raw("stack", st.str());
        if (u.badstack.altstack_end) {
          JsonObject alt;
          alt.add("start", hex(u.badstack.altstack_start));
          alt.add("end", hex(u.badstack.altstack_end));
          o.add_raw("sigaltstack", alt.str());
        }
        break;
      }
      case DUNE_EV_SIGNAL:
        o.add("signal", signal_name(u.signal.signo));
        o.add("code", si_code_name(u.signal.signo, u.signal.code));
        if (from_a_process(u.signal.code)) {
          o.add("sender_pid", static_cast<uint32_t>(u.signal.addr));
          o.add("sender_uid", static_cast<uint32_t>(u.signal.addr >> 32));
        } else {
          o.add("addr", hex(u.signal.addr));
        }
        o.add("handler", hex(u.signal.handler));
        if (e.handler) o.add_raw("handler_at", location_json(*e.handler));
        break;
      case DUNE_EV_THREAD:
        o.add("what", u.thread.process ? "process" : "thread");
        o.add("action", !u.thread.started ? "exit" : e.exec ? "exec" : "start");
        if (u.thread.started && u.thread.process) {
          o.add("ppid", u.thread.ppid);
          if (!e.exe.empty()) o.add("exe", e.exe);
        }
        if (!u.thread.started) {
          if (u.thread.signo)
            o.add("killed_by", signal_name(u.thread.signo));
          else
            o.add("status", u.thread.status);
        }
        break;
      default: break;
    }
    if (has_cycles(ev.kind)) {
      o.add("cycles", ev.cycles);
      if (style_.timing && style_.tsc_hz > 0) o.add("seconds", seconds);
    }
    if (r.flags & dune::trace_wire::kHasRegs) {
      o.add("rip", hex(r.regs.rip));
      o.add("rsp", hex(r.regs.rsp));
    }
    if (e.at) o.add_raw("at", location_json(*e.at));
    if (!e.backtrace.empty()) {
      std::string bt = "[";
      for (size_t i = 0; i < e.backtrace.size(); ++i) bt += (i ? "," : "") + location_json(e.backtrace[i]);
      o.add_raw("backtrace", bt + "]");
    }
    return o.str() + "\n";
  }

  std::string line = style_.follow ? fmt::format("[pid {} tid {}] ", ev.pid, ev.tid) : std::string();
  line += time_prefix(ev.tsc);
  std::string at = e.at ? " at " + location_text(*e.at) : std::string();
  switch (ev.kind) {
    case DUNE_EV_SYSCALL: {
      decode::SyscallCall call;
      syscall_call_of(r, e.captures, &call);
      line += decode::syscall_line(call, decode::DecodeStyle{style_.string_limit, style_.fd_paths});
      if (call.returned) line += timing_text;
      break;
    }
    case DUNE_EV_VMEXIT:
      line += fmt::format("exit {}", exit_reason_name(u.vmexit.exit_kind));
      if (u.vmexit.exit_kind == DUNE_EXIT_EXCEPTION) line += " " + vector_name(u.vmexit.vector);
      line += at + timing_text;
      break;
    case DUNE_EV_FAULT:
      line += "fault " + vector_name(u.fault.vector);
      if (u.fault.vector == 14)
        line += fmt::format(" {} {:#x} ({})", access_of(u.fault.err), u.fault.addr,
                            prot_or_unmapped(u.fault.mapped, u.fault.prot));
      line += at + " -> " + fault_outcome_name(u.fault.outcome);
      if (u.fault.signo) line += " " + signal_name(u.fault.signo);
      break;
    case DUNE_EV_HOSTFAULT:
      // KVM does not always say where (PVM's EFAULT without memory-fault information).
      if (u.hostfault.addr)
        line += fmt::format("fault host {} {:#x} ({})", u.hostfault.is_write ? "write" : "read", u.hostfault.addr,
                            prot_or_unmapped(u.hostfault.mapped, u.hostfault.prot));
      else
        line += "fault host access at an address KVM did not give";
      line += at + " -> " + fault_outcome_name(u.hostfault.outcome) + " " + signal_name(u.hostfault.signo);
      break;
    case DUNE_EV_BADSTACK: {
      line += fmt::format("badstack rsp={:#x} ", u.badstack.rsp);
      if (u.badstack.map_end) {
        line += fmt::format("in {:#x}-{:#x} {} {} (not a stack)", u.badstack.map_start, u.badstack.map_end,
                            prot_string(u.badstack.map_prot),
                            e.mapping_name.empty() ? map_kind_name(u.badstack.map_kind) : e.mapping_name);
      } else {
        line += "in no mapping";
      }
      line += at;
      line += fmt::format("; thread stack {:#x}-{:#x}", u.badstack.stack_start, u.badstack.stack_end);
      if (u.badstack.altstack_end)
        line += fmt::format(", sigaltstack {:#x}-{:#x}", u.badstack.altstack_start, u.badstack.altstack_end);
      break;
    }
    case DUNE_EV_SIGNAL: {
      std::string info = from_a_process(u.signal.code)
                             ? fmt::format("si_pid={}, si_uid={}", static_cast<uint32_t>(u.signal.addr),
                                           static_cast<uint32_t>(u.signal.addr >> 32))
                             : fmt::format("si_addr={:#x}", u.signal.addr);
      line += fmt::format("--- {} {{si_code={}, {}}} handler {}{} ---", signal_name(u.signal.signo),
                          si_code_name(u.signal.signo, u.signal.code), info,
                          e.handler ? location_text(*e.handler) : fmt::format("{:#x}", u.signal.handler), at);
      break;
    }
    case DUNE_EV_THREAD: {
      const char* what = u.thread.process ? "" : "thread ";
      std::string exe = e.exe.empty() ? std::string() : " " + e.exe;
      if (u.thread.started && !u.thread.process)
        line += "+++ thread started +++";
      else if (u.thread.started && e.exec)
        line += fmt::format("+++ exec'd{} +++", exe);
      else if (u.thread.started)
        line += fmt::format("+++ process started{} (parent {}) +++", exe, u.thread.ppid);
      else if (u.thread.signo)
        line += fmt::format("+++ {}killed by {} +++", what, signal_name(u.thread.signo));
      else
        line += fmt::format("+++ {}exited with {} +++", what, u.thread.status);
      break;
    }
    default:
      line += fmt::format("event {}", ev.kind);
  }
  line += '\n';
  for (size_t i = 0; i < e.backtrace.size(); ++i) {
    const Location& l = e.backtrace[i];
    line += fmt::format(" > #{} {}", i, location_text(l));
    if (!l.module.empty()) line += fmt::format(" in {}", l.module);
    line += '\n';
  }
  return line;
}

std::string EventFormatter::format_wait_status(int pid, int status) const {
  if (style_.json) {
    JsonObject o;
    o.add("event", "process");
    o.add("pid", pid);
    o.add("tid", pid);
    o.add("what", "process");
    o.add("action", "exit");
    if (WIFSIGNALED(status))
      o.add("killed_by", signal_name(WTERMSIG(status)));
    else
      o.add("status", WEXITSTATUS(status));
    return o.str() + "\n";
  }
  std::string line = style_.follow ? fmt::format("[pid {} tid {}] ", pid, pid) : std::string();
  if (WIFSIGNALED(status))
    line += fmt::format("+++ killed by {} +++\n", signal_name(WTERMSIG(status)));
  else
    line += fmt::format("+++ exited with {} +++\n", WEXITSTATUS(status));
  return line;
}

}  // namespace dunetrace
