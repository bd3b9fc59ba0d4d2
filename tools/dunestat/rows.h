// rows.h - the operations dunestat measures: their keys, titles, units and methods.
#pragma once

#include <bitset>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string_view>

namespace dunestat {

// In the order the table prints them.
enum class RowId : uint8_t {
  kTsc,
  kSyscall,
  kKernelFault,
  kUserFault,
  kAppel1,
  kAppel2,
  kExitFloor,
  kThread,
  kFork,
  kSignal,
};
inline constexpr size_t kRowCount = 10;

// Pages one pass of the Appel & Li rows goes over (one fault each).
inline constexpr unsigned kAppelPages = 100;

struct RowInfo {
  RowId id;
  const char* key;          // what --only, JSON and CSV call it
  const char* title;        // what the table and the chart call it
  const char* unit;         // of one repetition
  unsigned faults_per_rep;  // >1: the row also has a figure per fault
  const char* method;       // how one repetition is measured (--help, docs/dunestat.md)
};

std::span<const RowInfo> all_rows();
const RowInfo& row_info(RowId id);
std::optional<RowId> find_row(std::string_view key);
inline size_t row_index(RowId id) { return static_cast<size_t>(id); }

// A set of rows, indexed by row_index.
using RowSet = std::bitset<kRowCount>;
inline RowSet every_row() { return RowSet().set(); }

// What must be measured to show `shown`: the TSC overhead is subtracted from
// every figure, and the VM exit floor is what a system call is compared with.
RowSet rows_to_measure(RowSet shown);

}  // namespace dunestat
