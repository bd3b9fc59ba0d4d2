#include "remote_unwinder.h"

#include "elf_image.h"
#include "process_maps.h"
#include "remote_memory.h"

// Exported by libunwind (libunwind-ptrace's find_proc_info uses it) but not
// declared in its headers: the binary search of an .eh_frame_hdr table.
extern "C" int _Ux86_64_dwarf_search_unwind_table(unw_addr_space_t as, unw_word_t ip, unw_dyn_info_t* di,
                                                  unw_proc_info_t* pi, int need_unwind_info, void* arg);

namespace dunetrace {

namespace {

struct Context {
  int pid;
  const dune_tf* regs;
  uint64_t event;
  ProcessMaps* maps;
  ElfCache* elves;
  RemoteMemory memory;
};

int find_proc_info(unw_addr_space_t as, unw_word_t ip, unw_proc_info_t* pi, int need_unwind_info, void* arg) {
  auto* c = static_cast<Context*>(arg);
  const MappedRegion* r = c->maps->find(c->pid, ip, c->event);
  if (!r || !r->file()) return -UNW_ENOINFO;
  const ElfImage* image = c->elves->get(r->path);
  if (!image || !image->unwind_table()) return -UNW_ENOINFO;
  auto vaddr = image->vaddr_of_offset(r->offset);
  if (!vaddr) return -UNW_ENOINFO;
  uint64_t bias = r->start - *vaddr;
  const auto& t = *image->unwind_table();
  unw_dyn_info_t di{};
  di.format = UNW_INFO_FORMAT_REMOTE_TABLE;
  di.start_ip = bias + image->min_vaddr();
  di.end_ip = bias + image->max_vaddr();
  di.u.rti.segbase = bias + t.hdr_vaddr;
  di.u.rti.table_data = bias + t.table_vaddr;
  // In words; an entry is two 4-byte offsets.
  di.u.rti.table_len = t.entries * 8 / sizeof(unw_word_t);
  return _Ux86_64_dwarf_search_unwind_table(as, ip, &di, pi, need_unwind_info, arg);
}

void put_unwind_info(unw_addr_space_t, unw_proc_info_t*, void*) {}

int get_dyn_info_list_addr(unw_addr_space_t, unw_word_t*, void*) { return -UNW_ENOINFO; }

int access_mem(unw_addr_space_t, unw_word_t addr, unw_word_t* val, int write, void* arg) {
  if (write) return -UNW_EINVAL;  // a backtrace only looks
  auto* c = static_cast<Context*>(arg);
  return c->memory.read(addr, val, sizeof *val) ? 0 : -UNW_EINVAL;
}

int access_reg(unw_addr_space_t, unw_regnum_t reg, unw_word_t* val, int write, void* arg) {
  if (write) return -UNW_EINVAL;
  const dune_tf& r = *static_cast<Context*>(arg)->regs;
  switch (reg) {
    case UNW_X86_64_RAX: *val = r.rax; break;
    case UNW_X86_64_RDX: *val = r.rdx; break;
    case UNW_X86_64_RCX: *val = r.rcx; break;
    case UNW_X86_64_RBX: *val = r.rbx; break;
    case UNW_X86_64_RSI: *val = r.rsi; break;
    case UNW_X86_64_RDI: *val = r.rdi; break;
    case UNW_X86_64_RBP: *val = r.rbp; break;
    case UNW_X86_64_RSP: *val = r.rsp; break;
    case UNW_X86_64_R8: *val = r.r8; break;
    case UNW_X86_64_R9: *val = r.r9; break;
    case UNW_X86_64_R10: *val = r.r10; break;
    case UNW_X86_64_R11: *val = r.r11; break;
    case UNW_X86_64_R12: *val = r.r12; break;
    case UNW_X86_64_R13: *val = r.r13; break;
    case UNW_X86_64_R14: *val = r.r14; break;
    case UNW_X86_64_R15: *val = r.r15; break;
    case UNW_X86_64_RIP: *val = r.rip; break;
    default: return -UNW_EBADREG;
  }
  return 0;
}

int access_fpreg(unw_addr_space_t, unw_regnum_t, unw_fpreg_t*, int, void*) { return -UNW_EBADREG; }

int resume(unw_addr_space_t, unw_cursor_t*, void*) { return -UNW_EINVAL; }

int get_proc_name(unw_addr_space_t, unw_word_t, char*, size_t, unw_word_t*, void*) { return -UNW_ENOINFO; }

unw_accessors_t g_accessors = {find_proc_info, put_unwind_info, get_dyn_info_list_addr, access_mem,
                               access_reg,     access_fpreg,    resume,                 get_proc_name};

}  // namespace

RemoteUnwinder::RemoteUnwinder(ProcessMaps& maps, ElfCache& elves) : maps_(maps), elves_(elves) {
  as_ = unw_create_addr_space(&g_accessors, 0);
  // Processes come and go and reuse addresses: remember nothing between backtraces.
  if (as_) unw_set_caching_policy(as_, UNW_CACHE_NONE);
}

RemoteUnwinder::~RemoteUnwinder() {
  if (as_) unw_destroy_addr_space(as_);
}

std::vector<UnwoundFrame> RemoteUnwinder::unwind(int pid, int tid, const dune_tf& regs, int depth, uint64_t event) {
  std::vector<UnwoundFrame> out;
  if (depth <= 0 || !regs.rip) return out;
  Context ctx{pid, &regs, event, &maps_, &elves_, RemoteMemory(tid)};
  unw_cursor_t cursor;
  if (!as_ || unw_init_remote(&cursor, as_, &ctx) < 0) {
    out.push_back({regs.rip, true});
    return out;
  }
  bool exact = true;
  uint64_t last_ip = 0, last_sp = 0;
  while (static_cast<int>(out.size()) < depth) {
    unw_word_t ip = 0, sp = 0;
    if (unw_get_reg(&cursor, UNW_REG_IP, &ip) < 0 || ip == 0) break;
    unw_get_reg(&cursor, UNW_REG_SP, &sp);
    if (!out.empty() && ip == last_ip && sp == last_sp) break;  // no progress
    out.push_back({ip, exact});
    last_ip = ip;
    last_sp = sp;
    // The frame a signal frame leads to was interrupted, not calling.
    exact = unw_is_signal_frame(&cursor) > 0;
    if (unw_step(&cursor) <= 0) break;
  }
  return out;
}

}  // namespace dunetrace
