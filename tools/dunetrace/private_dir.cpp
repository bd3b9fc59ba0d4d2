#include "private_dir.h"

#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>

namespace dunetrace {

Parsed<std::string> PrivateDir::create_path() {
  const char* tmp = std::getenv("TMPDIR");
  std::string base = tmp && *tmp ? tmp : "/tmp";
  // Room for "/dunetrace.XXXXXX/events" in sockaddr_un's sun_path.
  if (base.size() + 32 > sizeof(sockaddr_un{}.sun_path)) base = "/tmp";
  std::string templ = base + "/dunetrace.XXXXXX";
  if (!mkdtemp(templ.data())) return Parsed<std::string>::fail("cannot create a directory in " + base + ": " + std::strerror(errno));
  return {templ};
}

std::string PrivateDir::file(const std::string& name) {
  std::string p = path_ + "/" + name;
  files_.push_back(p);
  return p;
}

PrivateDir::~PrivateDir() {
  for (const std::string& f : files_) unlink(f.c_str());
  rmdir(path_.c_str());
}

}  // namespace dunetrace
