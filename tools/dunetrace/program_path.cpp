#include "program_path.h"

#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>

namespace dunetrace {

namespace {

// Why path cannot be executed, or "".
std::string why_not_executable(const std::string& path) {
  struct stat st {};
  if (stat(path.c_str(), &st) != 0) return std::string("Can't stat '") + path + "': " + std::strerror(errno);
  if (S_ISDIR(st.st_mode)) return "'" + path + "' is a directory";
  if (!S_ISREG(st.st_mode) || access(path.c_str(), X_OK) != 0)
    return "'" + path + "' is not executable: " + std::strerror(S_ISREG(st.st_mode) ? errno : EACCES);
  return {};
}

std::string dir_of(const std::string& path) {
  size_t slash = path.rfind('/');
  return slash == std::string::npos ? "." : path.substr(0, slash);
}

}  // namespace

Parsed<std::string> find_program(const std::string& name) {
  using P = Parsed<std::string>;
  if (name.empty()) return P::fail("Can't stat '': No such file or directory");
  if (name.find('/') != std::string::npos) {
    std::string why = why_not_executable(name);
    return why.empty() ? P{name} : P::fail(why);
  }
  const char* path_env = std::getenv("PATH");
  std::string path = path_env ? path_env : "/usr/local/bin:/usr/bin:/bin";
  std::string first_problem;
  size_t start = 0;
  for (;;) {
    size_t colon = path.find(':', start);
    std::string dir = path.substr(start, colon == std::string::npos ? std::string::npos : colon - start);
    std::string candidate = (dir.empty() ? "." : dir) + "/" + name;
    struct stat st {};
    if (stat(candidate.c_str(), &st) == 0) {
      std::string why = why_not_executable(candidate);
      if (why.empty()) return {candidate};
      if (first_problem.empty()) first_problem = why;
    }
    if (colon == std::string::npos) break;
    start = colon + 1;
  }
  if (!first_problem.empty()) return P::fail(first_problem);
  return P::fail("Can't stat '" + name + "': No such file or directory");
}

Parsed<std::string> find_shim(const std::string& self) {
  std::string dir = dir_of(self);
  const char* candidates[] = {DUNETRACE_SHIM_FROM_BUILD_DIR, DUNETRACE_SHIM_FROM_INSTALL_DIR};
  for (const char* rel : candidates) {
    std::string p = dir + "/" + rel;
    if (access(p.c_str(), R_OK) == 0) {
      char* real = realpath(p.c_str(), nullptr);
      std::string r = real ? real : p;
      std::free(real);
      return {r};
    }
  }
  return Parsed<std::string>::fail("cannot find libdune_preload.so (looked in " + dir + "/" +
                                   DUNETRACE_SHIM_FROM_BUILD_DIR + " and " + dir + "/" +
                                   DUNETRACE_SHIM_FROM_INSTALL_DIR + ")");
}

}  // namespace dunetrace
