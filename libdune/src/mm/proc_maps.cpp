#include "mm/proc_maps.h"

#include <fcntl.h>
#include <sys/mman.h>

#include "base/unique_fd.h"

namespace dune {
namespace {

bool parse_hex(std::string_view& s, uint64_t* out) {
  uint64_t v = 0;
  size_t i = 0;
  for (; i < s.size(); ++i) {
    char c = s[i];
    int d;
    if (c >= '0' && c <= '9') d = c - '0';
    else if (c >= 'a' && c <= 'f') d = c - 'a' + 10;
    else if (c >= 'A' && c <= 'F') d = c - 'A' + 10;
    else break;
    v = (v << 4) | static_cast<uint64_t>(d);
  }
  if (i == 0) return false;
  s.remove_prefix(i);
  *out = v;
  return true;
}

bool parse_dec(std::string_view& s, uint64_t* out) {
  uint64_t v = 0;
  size_t i = 0;
  for (; i < s.size() && s[i] >= '0' && s[i] <= '9'; ++i) v = v * 10 + static_cast<uint64_t>(s[i] - '0');
  if (i == 0) return false;
  s.remove_prefix(i);
  *out = v;
  return true;
}

bool expect(std::string_view& s, char c) {
  if (s.empty() || s[0] != c) return false;
  s.remove_prefix(1);
  return true;
}

void skip_spaces(std::string_view& s) {
  while (!s.empty() && s[0] == ' ') s.remove_prefix(1);
}

}  // namespace

bool parse_proc_maps_line(std::string_view s, ProcMapsEntry* out) {
  ProcMapsEntry e;
  if (!parse_hex(s, &e.start) || !expect(s, '-') || !parse_hex(s, &e.end) || !expect(s, ' '))
    return false;
  if (s.size() < 5) return false;
  if (s[0] == 'r') e.prot |= PROT_READ;
  if (s[1] == 'w') e.prot |= PROT_WRITE;
  if (s[2] == 'x') e.prot |= PROT_EXEC;
  e.shared = s[3] == 's';
  s.remove_prefix(4);
  if (!expect(s, ' ') || !parse_hex(s, &e.offset) || !expect(s, ' ')) return false;
  uint64_t major, minor;
  if (!parse_hex(s, &major) || !expect(s, ':') || !parse_hex(s, &minor) || !expect(s, ' '))
    return false;
  if (!parse_dec(s, &e.inode)) return false;
  skip_spaces(s);
  e.path = s;
  if (e.end <= e.start) return false;
  *out = e;
  return true;
}

namespace {
// The calling thread's view, not /proc/self's: once a program's main thread has
// ended with SYS_exit, /proc/self names a zombie whose maps read empty.
constexpr const char* kSelfMaps = "/proc/thread-self/maps";
}  // namespace

Result<ProcMapsSnapshot> ProcMapsSnapshot::read_self() {
  long fd = sys::open(kSelfMaps, O_RDONLY | O_CLOEXEC);
  if (sys::is_error(fd)) return Error(static_cast<int>(fd));
  UniqueFd file(static_cast<int>(fd));
  size_t cap = 256 * 1024;
  for (;;) {
    auto buf = Mapping::anonymous(cap);
    if (!buf) return Error(buf.error());
    size_t used = 0;
    char* p = buf->as<char>();
    // The kernel produces the text in page-sized reads; read until EOF.
    for (;;) {
      if (used == cap) break;
      long r = sys::read(file.get(), p + used, cap - used);
      if (r == -EINTR) continue;
      if (r < 0) return Error(static_cast<int>(r));
      if (r == 0) break;
      used += static_cast<size_t>(r);
    }
    if (used < cap) {
      ProcMapsSnapshot snap;
      snap.text_ = std::string_view(p, used);
      snap.buffer_ = std::move(buf.value());
      return snap;
    }
    // Did not fit: start over with a bigger buffer.
    cap *= 4;
    long fd2 = sys::open(kSelfMaps, O_RDONLY | O_CLOEXEC);
    if (sys::is_error(fd2)) return Error(static_cast<int>(fd2));
    file.reset(static_cast<int>(fd2));
  }
}

ProcMapsSnapshot ProcMapsSnapshot::from_text(std::string_view text) {
  ProcMapsSnapshot snap;
  snap.text_ = text;
  return snap;
}

}  // namespace dune
