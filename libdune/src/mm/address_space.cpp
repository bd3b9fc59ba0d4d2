#include "mm/address_space.h"

namespace dune {

RegionAttrs attrs_from_proc_maps(const ProcMapsEntry& e) {
  RegionAttrs a;
  a.prot = e.prot;
  a.shared = e.shared;
  if (e.path == "[stack]") {
    a.kind = RegionKind::kStack;
    a.growsdown = true;
  } else if (e.path == "[heap]") {
    a.kind = RegionKind::kHeap;
  } else if (e.path == "[vdso]" || e.path == "[vvar]" || e.path == "[vvar_vclock]" ||
             e.path == "[vsyscall]" || e.path == "[uprobes]") {
    a.kind = RegionKind::kVdso;
  } else if (e.path.starts_with("/SYSV")) {
    a.kind = RegionKind::kShm;
  } else if (!e.path.empty() && e.path[0] == '/') {
    a.kind = RegionKind::kFile;
  } else {
    a.kind = RegionKind::kAnon;
  }
  return a;
}

}  // namespace dune
