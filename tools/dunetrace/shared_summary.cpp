#include "shared_summary.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <unistd.h>

#include <new>

#include "unique_fd.h"

namespace dunetrace {

bool SharedSummary::create(const std::string& path) {
  UniqueFd fd(::open(path.c_str(), O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600));
  if (!fd || ftruncate(fd.get(), static_cast<off_t>(bytes())) != 0) return false;
  void* m = mmap(nullptr, bytes(), PROT_READ | PROT_WRITE, MAP_SHARED, fd.get(), 0);
  if (m == MAP_FAILED) return false;
  table_ = new (m) dune::trace_wire::SummaryTable();
  return true;
}

SharedSummary::~SharedSummary() {
  if (table_) munmap(table_, bytes());
}

}  // namespace dunetrace
