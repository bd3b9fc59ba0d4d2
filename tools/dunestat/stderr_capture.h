// stderr_capture.h - keeps what libdune says on stderr during one call, to
// report it as the reason a column is missing.
#pragma once

#include <string>

namespace dunestat {

// From construction to finish() (or destruction), fd 2 is a memory file.
class StderrCapture {
 public:
  StderrCapture();
  ~StderrCapture();
  StderrCapture(const StderrCapture&) = delete;
  StderrCapture& operator=(const StderrCapture&) = delete;

  // Puts stderr back and returns what was written, trimmed.
  std::string finish();

 private:
  int saved_ = -1;  // the real stderr
  int file_ = -1;   // the memory file standing in for it
};

}  // namespace dunestat
