// trace_output.h - where the trace goes: stderr, -o FILE, or FILE.PID per process (--ff).
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>

#include "parsed.h"
#include "unique_fd.h"

namespace dunetrace {

class TraceOutput {
 public:
  // file: "" for stderr. per_process: FILE.PID. Fails (with the message) when
  // the file, or with per_process its directory, cannot be written.
  static Parsed<std::shared_ptr<TraceOutput>> open(const std::string& file, bool per_process);
  ~TraceOutput() { flush(); }

  // Text about process pid (buffered).
  void write(int pid, std::string_view text);
  void flush();

 private:
  struct Sink {
    UniqueFd fd;
    int raw = -1;  // fd, or 2
    std::string buffer;
    bool broken = false;  // a write failed: the rest is dropped, the program runs on
  };
  Sink& sink_for(int pid);
  void flush(Sink& s);

  std::string file_;
  bool per_process_ = false;
  Sink main_;
  std::unordered_map<int, Sink> per_pid_;
};

}  // namespace dunetrace
