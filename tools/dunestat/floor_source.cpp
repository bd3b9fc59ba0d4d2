#include "floor_source.h"

#include <dune/bench.h>
#include <fcntl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <vector>

#include "fd_io.h"
#include "stderr_capture.h"

namespace dunestat {
namespace {

int measure_here(uint64_t* samples, size_t n, std::string* said) {
  StderrCapture capture;
  int r = dune_bench_exit_floor(samples, n);
  *said = capture.finish();
  return r;
}

struct ReplyHeader {
  int32_t status;
  uint32_t said_bytes;
};

// The helper's loop: a count in, a reply out, until the count is 0 or the pipe closes.
[[noreturn]] void serve(int requests, int replies) {
  std::vector<uint64_t> samples;
  uint64_t n;
  while (read_all(requests, &n, sizeof n) && n > 0) {
    samples.resize(n);
    std::string said;
    ReplyHeader h{measure_here(samples.data(), n, &said), 0};
    h.said_bytes = static_cast<uint32_t>(said.size());
    bool ok = write_all(replies, &h, sizeof h) && write_all(replies, said.data(), said.size());
    if (ok && h.status == 0) ok = write_all(replies, samples.data(), n * sizeof(uint64_t));
    if (!ok) break;
  }
  _exit(0);
}

}  // namespace

FloorSource FloorSource::here() { return FloorSource(); }

FloorSource FloorSource::helper() {
  FloorSource s;
  s.here_ = false;
  int to[2], from[2];
  if (pipe2(to, O_CLOEXEC) != 0) return s;
  if (pipe2(from, O_CLOEXEC) != 0) {
    close(to[0]);
    close(to[1]);
    return s;
  }
  pid_t pid = fork();
  if (pid == 0) {
    close(to[1]);
    close(from[0]);
    serve(to[0], from[1]);
  }
  close(to[0]);
  close(from[1]);
  s.pid_ = pid;
  s.request_ = to[1];
  s.reply_ = from[0];
  return s;
}

FloorSource::FloorSource(FloorSource&& o) noexcept
    : here_(o.here_), pid_(o.pid_), request_(o.request_), reply_(o.reply_) {
  o.pid_ = -1;
  o.request_ = o.reply_ = -1;
}

FloorSource::~FloorSource() {
  if (request_ >= 0) {
    uint64_t stop = 0;
    (void)write_all(request_, &stop, sizeof stop);
    close(request_);
  }
  if (reply_ >= 0) close(reply_);
  if (pid_ > 0)
    while (waitpid(pid_, nullptr, 0) < 0 && errno == EINTR) {
    }
}

int FloorSource::measure(uint64_t* samples, size_t n, std::string* said) {
  said->clear();
  if (here_) return measure_here(samples, n, said);
  if (pid_ < 0) {
    *said = "cannot start the helper process that measures the floor";
    return -EAGAIN;
  }
  uint64_t count = n;
  ReplyHeader h{};
  if (!write_all(request_, &count, sizeof count) || !read_all(reply_, &h, sizeof h)) {
    *said = "the helper process that measures the floor is gone";
    return -EPIPE;
  }
  said->resize(h.said_bytes);
  if (!read_all(reply_, said->data(), said->size())) return -EPIPE;
  if (h.status == 0 && !read_all(reply_, samples, n * sizeof(uint64_t))) return -EPIPE;
  return h.status;
}

}  // namespace dunestat
