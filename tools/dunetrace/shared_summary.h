// shared_summary.h - dunetrace -c's table: a file of the private directory
// that every traced process maps shared and adds its events to.
#pragma once

#include <cstddef>
#include <string>

#include "trace_protocol.h"

namespace dunetrace {

class SharedSummary {
 public:
  SharedSummary() = default;
  ~SharedSummary();
  SharedSummary(const SharedSummary&) = delete;
  SharedSummary& operator=(const SharedSummary&) = delete;

  // Creates the file at path (it must not exist) with an empty table.
  bool create(const std::string& path);
  const dune::trace_wire::SummaryTable* table() const { return table_; }

 private:
  static size_t bytes() { return (sizeof(dune::trace_wire::SummaryTable) + 4095) & ~size_t{4095}; }
  dune::trace_wire::SummaryTable* table_ = nullptr;
};

}  // namespace dunetrace
