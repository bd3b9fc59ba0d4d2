#include "trace_output.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace dunetrace {

namespace {
constexpr size_t kFlushAt = 64 * 1024;

std::string directory_of(const std::string& path) {
  size_t slash = path.rfind('/');
  if (slash == std::string::npos) return ".";
  return slash == 0 ? "/" : path.substr(0, slash);
}
}  // namespace

Parsed<std::shared_ptr<TraceOutput>> TraceOutput::open(const std::string& file, bool per_process) {
  using P = Parsed<std::shared_ptr<TraceOutput>>;
  auto out = std::shared_ptr<TraceOutput>(new TraceOutput());
  out->file_ = file;
  out->per_process_ = per_process;
  if (file.empty()) {
    out->main_.raw = 2;
    return {out};
  }
  if (per_process) {
    // Files come with their processes; their directory must take them.
    std::string dir = directory_of(file);
    if (access(dir.c_str(), W_OK | X_OK) != 0)
      return P::fail("can't write trace files in '" + dir + "': " + std::strerror(errno));
    return {out};
  }
  int fd = ::open(file.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) return P::fail("can't open '" + file + "': " + std::strerror(errno));
  out->main_.fd.reset(fd);
  out->main_.raw = fd;
  return {out};
}

TraceOutput::Sink& TraceOutput::sink_for(int pid) {
  if (!per_process_) return main_;
  auto it = per_pid_.find(pid);
  if (it != per_pid_.end()) return it->second;
  Sink& s = per_pid_[pid];
  std::string path = file_ + "." + std::to_string(pid);
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) {
    std::string msg = "dunetrace: can't open '" + path + "': " + std::strerror(errno) + "\n";
    (void)!::write(2, msg.data(), msg.size());
    s.broken = true;
  } else {
    s.fd.reset(fd);
    s.raw = fd;
  }
  return s;
}

void TraceOutput::write(int pid, std::string_view text) {
  Sink& s = sink_for(pid);
  if (s.broken) return;
  s.buffer.append(text);
  if (s.buffer.size() >= kFlushAt) flush(s);
}

void TraceOutput::flush(Sink& s) {
  size_t done = 0;
  while (!s.broken && done < s.buffer.size()) {
    ssize_t n = ::write(s.raw, s.buffer.data() + done, s.buffer.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      s.broken = true;
      break;
    }
    done += static_cast<size_t>(n);
  }
  s.buffer.clear();
}

void TraceOutput::flush() {
  flush(main_);
  for (auto& [pid, s] : per_pid_) flush(s);
}

}  // namespace dunetrace
