#include "options.h"

#include <boost/program_options.hpp>

#include <set>
#include <sstream>
#include <string_view>

#include "debug/gdb_address.h"

namespace po = boost::program_options;

namespace dunetrace {

namespace {

po::options_description visible_options() {
  po::options_description d("Options", 100, 50);
  // clang-format off
  d.add_options()
    ("help,h", "show this help and exit")
    ("version,V", "print the version and exit")
    ("output,o", po::value<std::string>()->value_name("FILE"),
     "write the trace to FILE instead of stderr")
    ("ff", "with -o: one file per process, FILE.PID (implies -f)")
    ("follow,f", "follow forks, threads and exec'd images; every line shows [pid P tid T] "
                 "(without -f: the first thread of PROG only)")
    ("events,e", po::value<std::vector<std::string>>()->composing()->value_name("EXPR"),
     "which events (repeatable): KIND[,KIND...] or KIND=VALUE[,VALUE...]; see below")
    ("stack,k", "a backtrace with each event (guest registers, unwound with libunwind)")
    ("stack-depth", po::value<int>()->value_name("N"),
     "frames per backtrace (implies -k; default 16, at most 256)")
    ("summary,c", "count instead of logging: a table of VM exits by reason and syscalls by "
                  "name (count, %, total/avg/min/max cycles, errors) at the end")
    ("json", "one JSON object per line instead of text (the -c tables too)")
    ("time,T", "the time each syscall (and VM exit) took, in seconds as strace shows it "
               "(cycles in --json)")
    ("string-limit,s", po::value<int>()->value_name("N"),
     "show at most N bytes of each string (default 32; paths are whole)")
    ("decode-fds,y", "show each descriptor's file: 3</etc/passwd>")
    ("relative-timestamps,r", "before each line, the time since the previous one")
    ("successful-only,z", "only syscalls that succeeded (-e status=successful)")
    ("failed-only,Z", "only syscalls that failed (-e status=failed)")
    ("gdb", po::value<std::string>()->value_name("[HOST:]PORT"),
            "a gdb server in the program (DUNE_GDB): it waits before main for gdb PROG -ex "
            "'target remote HOST:PORT' (HOST 127.0.0.1 unless given; a Unix socket path too)");
  // clang-format on
  return d;
}

// strace's counted flags, given as -t/-tt/-ttt and -q/-qq: rewritten to these.
po::options_description counted_options() {
  po::options_description d;
  d.add_options()("timestamps", po::value<int>())("quiet", po::value<int>());
  return d;
}

// Where the command starts: the first argument that is neither an option nor
// an option's value, or the one after "--" (strace's rule: "dunetrace ls -l"
// traces "ls -l"). Boost.program_options then sees only what comes before.
int command_start(int argc, const char* const* argv, const po::options_description& d) {
  std::set<std::string> long_with_value;
  std::set<char> short_with_value;
  for (const auto& o : d.options()) {
    if (o->semantic()->max_tokens() == 0) continue;
    long_with_value.insert(o->long_name());
    std::string shrt = o->canonical_display_name(po::command_line_style::allow_dash_for_short);
    if (shrt.size() == 2 && shrt[0] == '-') short_with_value.insert(shrt[1]);
  }
  for (int i = 1; i < argc; ++i) {
    std::string_view a = argv[i];
    if (a == "--") return i;
    if (a.size() < 2 || a[0] != '-') return i;
    if (a[1] == '-') {
      if (a.find('=') == std::string_view::npos && long_with_value.count(std::string(a.substr(2)))) ++i;
      continue;
    }
    // A group of short options: the first that takes a value takes the rest
    // of the group, or else the next argument.
    for (size_t k = 1; k < a.size(); ++k) {
      if (!short_with_value.count(a[k])) continue;
      if (k + 1 == a.size()) ++i;
      break;
    }
  }
  return argc;
}

}  // namespace

std::string help_text() {
  std::ostringstream s;
  s << "Usage: dunetrace [OPTIONS] [--] PROG [ARGS...]\n"
       "Runs PROG in Dune mode (through libdune_preload.so) and logs what happens at the VM\n"
       "boundary: VM exits, syscalls, memory faults, bad stack pointers, signals, processes\n"
       "and threads starting and ending, each optionally with a symbolized backtrace. PROG's\n"
       "own stdout and stderr stay its own; the trace goes to stderr or -o FILE.\n\n"
    << visible_options()
    << "\nEvent kinds (-e):\n"
       "  exit       VM exits: reason, guest rip, host cycles;  exit=REASONS with reasons\n"
       "             syscall, exception, trap_return, hypercall, mmio, memory_fault,\n"
       "             interrupted, other\n"
       "  syscall    syscalls as strace prints them: decoded arguments, result;\n"
       "             syscall=NAMES or classes (trace= works too), e.g. -e trace=openat,read,\n"
       "             -e trace=%file (%process %memory %signal %network %desc %ipc %clock %creds)\n"
       "  fault      memory faults and other exceptions: address, access, the host's mapping\n"
       "             and protection there, rip, what happened next\n"
       "  badstack   a guest rsp off the thread's stack and sigaltstack, with the mapping\n"
       "             it fell in\n"
       "  signal     signals delivered to the program;  signal=SIGNALS\n"
       "  process    processes and threads starting and ending, with their status\n"
       "  all        all of them (the default, without syscall exits, which are syscall\n"
       "             lines already)\n"
       "  A value list starting with '!' takes every value but those: -e 'syscall=!getppid'.\n"
       "  status=successful,failed,unfinished  which syscall results are shown (-z, -Z)\n"
       "\nstrace's counted flags: -t (time of day), -tt (with microseconds), -ttt (seconds\n"
       "since the epoch) before each line; -q hides process and thread start lines, -qq\n"
       "the exit lines too.\n"
       "\nExit status: PROG's (128+N when killed by signal N); 2 for bad usage, 127 when\n"
       "PROG cannot be run.\n"
       "\nExamples:\n"
       "  dunetrace -f -k -o trace.txt ./server --port 8080\n"
       "  dunetrace -c -e syscall ./prog              # syscalls counted, strace -c style\n"
       "  dunetrace --json -e fault,badstack ./prog | jq .\n";
  return s.str();
}

Parsed<Options> parse_options(int argc, const char* const* argv) {
  using P = Parsed<Options>;
  po::options_description desc = visible_options();
  int cmd = command_start(argc, argv, desc);
  // strace's -ff is --ff; -t, -tt, -ttt, -q and -qq count.
  std::vector<const char*> args(argv, argv + cmd);
  for (auto& a : args) {
    std::string_view v(a);
    if (v == "-ff") a = "--ff";
    if (v == "-t") a = "--timestamps=1";
    if (v == "-tt") a = "--timestamps=2";
    if (v == "-ttt") a = "--timestamps=3";
    if (v == "-q") a = "--quiet=1";
    if (v == "-qq") a = "--quiet=2";
  }
  desc.add(counted_options());
  po::variables_map vm;
  try {
    po::command_line_parser parser(static_cast<int>(args.size()), args.data());
    // No guessing of abbreviated long options: values are never taken for options.
    parser.options(desc).style(po::command_line_style::default_style & ~po::command_line_style::allow_guessing);
    po::store(parser.run(), vm);
    po::notify(vm);
  } catch (const po::error& e) {
    return P::fail(e.what());
  }
  Options o;
  int first = cmd < argc && std::string_view(argv[cmd]) == "--" ? cmd + 1 : cmd;
  for (int i = first; i < argc; ++i) o.command.emplace_back(argv[i]);
  if (vm.count("help")) {
    o.help = true;
    return {o};
  }
  if (vm.count("version")) {
    o.version = true;
    return {o};
  }
  if (vm.count("output")) {
    o.output = vm["output"].as<std::string>();
    if (o.output.empty()) return P::fail("-o needs a file name");
  }
  o.output_per_process = vm.count("ff") > 0;
  if (o.output_per_process && o.output.empty()) return P::fail("--ff needs -o FILE");
  o.follow = vm.count("follow") > 0 || o.output_per_process;
  if (vm.count("events")) o.events = vm["events"].as<std::vector<std::string>>();
  if (vm.count("stack")) o.stack_depth = kDefaultStackDepth;
  if (vm.count("stack-depth")) {
    int n = vm["stack-depth"].as<int>();
    if (n < 1 || n > kMaxStackDepth)
      return P::fail("--stack-depth must be between 1 and " + std::to_string(kMaxStackDepth));
    o.stack_depth = n;
  }
  o.summary = vm.count("summary") > 0;
  o.json = vm.count("json") > 0;
  o.timing = vm.count("time") > 0;
  if (vm.count("string-limit")) {
    o.string_limit = vm["string-limit"].as<int>();
    if (o.string_limit < 0 || o.string_limit > 65536) return P::fail("-s must be between 0 and 65536");
  }
  o.fd_paths = vm.count("decode-fds") > 0;
  if (vm.count("timestamps")) o.timestamps = vm["timestamps"].as<int>();
  o.relative_timestamps = vm.count("relative-timestamps") > 0;
  if (vm.count("quiet")) o.quiet = vm["quiet"].as<int>();
  if (o.timestamps < 0 || o.timestamps > 3 || o.quiet < 0 || o.quiet > 2)
    return P::fail("-t, -tt, -ttt and -q, -qq are the forms these take");
  if (vm.count("gdb")) {
    o.gdb = vm["gdb"].as<std::string>();
    dune::debug::ListenAddress where;
    const char* why = nullptr;
    if (!dune::debug::parse_listen_address(o.gdb.c_str(), &where, &why))
      return P::fail("--gdb " + o.gdb + ": " + why + " (expected [HOST:]PORT or a socket path)");
  }
  if (o.command.empty()) return P::fail("must have PROG [ARGS]");
  auto filter = parse_event_filter(o.events, o.summary);
  if (!filter.ok()) return P::fail(filter.error);
  o.filter = filter.value;
  bool z = vm.count("successful-only") > 0, zz = vm.count("failed-only") > 0;
  if (z && zz) return P::fail("-z and -Z together show nothing");
  if (z) o.filter.status = kStatusSuccessful;
  if (zz) o.filter.status = kStatusFailed;
  return {o};
}

}  // namespace dunetrace
