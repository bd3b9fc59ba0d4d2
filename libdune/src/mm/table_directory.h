// table_directory.h - where each chunk of page-table memory sits, for code in
// the guest that walks the process's tables itself (classic/guest_walk.h): the
// entries of a table hold guest-physical addresses, which are host addresses
// only in the identity layout. A fixed array in the library's own data (the
// guest maps it; the host arena it does not), appended by the host as the
// pool grows and read without a lock.
#pragma once

#include <cstdint>

namespace dune::table_directory {

// Host side, under the memory manager's lock: a new chunk of `bytes` at gpa,
// whose memory is at hva.
void add(uint64_t gpa, uint64_t hva, uint64_t bytes);
// Host side: a new process image's manager starts over.
void clear();
// False once a chunk did not fit: the guest must not walk on its own then.
bool complete();

// The memory of the table page at gpa, or nullptr if no chunk holds it.
uint64_t* table_at(uint64_t gpa);

}  // namespace dune::table_directory
