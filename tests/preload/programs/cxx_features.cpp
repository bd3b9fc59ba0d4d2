// cxx_features: the C++ a real program uses, for the shim's comparison run:
// std::thread, std::async, exceptions unwinding through frames, iostreams, and
// a memory-mapped file.
#include <fcntl.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cstdio>
#include <cstring>
#include <future>
#include <iostream>
#include <map>
#include <mutex>
#include <numeric>
#include <sstream>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

namespace {

struct Tracer {
  std::string name;
  std::vector<std::string>* log;
  ~Tracer() { log->push_back("unwound " + name); }
};

int deep(int n, std::vector<std::string>& log) {
  Tracer t{"level " + std::to_string(n), &log};
  if (n == 0) throw std::runtime_error("bottom reached");
  return deep(n - 1, log) + 1;
}

}  // namespace

int main(int argc, char** argv) {
  // Threads sharing a counter under a mutex.
  std::mutex m;
  std::map<int, long> sums;
  std::vector<std::thread> threads;
  for (int t = 0; t < 8; ++t)
    threads.emplace_back([t, &m, &sums] {
      long s = 0;
      for (int i = 0; i < 100000; ++i) s += (i * 7 + t) % 13;
      std::lock_guard<std::mutex> g(m);
      sums[t] = s;
    });
  for (auto& t : threads) t.join();
  long total = 0;
  for (auto& [t, s] : sums) total += s;
  std::cout << "threads: total " << total << "\n";

  // std::async, deferred and eager.
  auto a = std::async(std::launch::async, [] {
    const int small[] = {1, 2, 3, 4};
    return std::accumulate(std::begin(small), std::end(small), 0);
  });
  std::vector<int> v(1000);
  std::iota(v.begin(), v.end(), 1);
  auto b = std::async(std::launch::async, [&v] { return std::accumulate(v.begin(), v.end(), 0L); });
  std::cout << "async: " << a.get() << " " << b.get() << "\n";

  // Exceptions unwinding through 5 frames, destructors run in order.
  std::vector<std::string> log;
  try {
    deep(5, log);
  } catch (const std::exception& e) {
    std::cout << "caught: " << e.what() << "\n";
  }
  for (const auto& l : log) std::cout << l << "\n";

  // iostreams formatting.
  std::ostringstream os;
  os.precision(5);
  os << std::fixed << 3.14159265 << " " << std::hex << 255 << " " << std::showbase << 255;
  std::cout << "iostream: " << os.str() << std::endl;

  // A file mapped in memory, written through the mapping, read back with read().
  const char* path = argc > 1 ? argv[1] : "cxx_features.dat";
  int fd = open(path, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0 || ftruncate(fd, 1 << 20) != 0) return 2;
  char* p = static_cast<char*>(mmap(nullptr, 1 << 20, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0));
  if (p == MAP_FAILED) return 3;
  for (int i = 0; i < (1 << 20); i += 4096) std::snprintf(p + i, 32, "page %d", i / 4096);
  msync(p, 1 << 20, MS_SYNC);
  munmap(p, 1 << 20);
  char buf[32] = {};
  if (pread(fd, buf, sizeof buf - 1, 255 * 4096) <= 0) return 4;
  close(fd);
  unlink(path);
  std::cout << "mmap: " << buf << "\n";
  return 0;
}
