// private_dir.h - dunetrace's own temporary directory (mode 0700): the event socket, the summary.
#pragma once

#include <string>
#include <vector>

#include "parsed.h"

namespace dunetrace {

class PrivateDir {
 public:
  // Under $TMPDIR (or /tmp when that is unset or its path would not fit a
  // socket address).
  static Parsed<std::string> create_path();
  explicit PrivateDir(std::string path) : path_(std::move(path)) {}
  ~PrivateDir();
  PrivateDir(const PrivateDir&) = delete;
  PrivateDir& operator=(const PrivateDir&) = delete;

  const std::string& path() const { return path_; }
  // name inside it, removed with the directory.
  std::string file(const std::string& name);

 private:
  std::string path_;
  std::vector<std::string> files_;
};

}  // namespace dunetrace
