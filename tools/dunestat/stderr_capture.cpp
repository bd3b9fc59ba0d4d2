#include "stderr_capture.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <unistd.h>

namespace dunestat {

StderrCapture::StderrCapture() {
  file_ = memfd_create("dunestat-stderr", MFD_CLOEXEC);
  saved_ = file_ >= 0 ? fcntl(2, F_DUPFD_CLOEXEC, 3) : -1;
  if (saved_ < 0 || dup2(file_, 2) < 0) {
    // Nothing captured; what the library says goes to stderr as usual.
    if (saved_ >= 0) close(saved_);
    if (file_ >= 0) close(file_);
    saved_ = file_ = -1;
  }
}

StderrCapture::~StderrCapture() { finish(); }

std::string StderrCapture::finish() {
  if (file_ < 0) return {};
  dup2(saved_, 2);
  close(saved_);
  std::string text;
  char buf[1024];
  ssize_t n;
  off_t at = 0;
  while ((n = pread(file_, buf, sizeof buf, at)) > 0) {
    text.append(buf, static_cast<size_t>(n));
    at += n;
  }
  close(file_);
  saved_ = file_ = -1;
  while (!text.empty() && (text.back() == '\n' || text.back() == ' ')) text.pop_back();
  return text;
}

}  // namespace dunestat
