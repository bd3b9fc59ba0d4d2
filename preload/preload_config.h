// preload_config.h - the shim's environment knobs, read and checked.
#pragma once

#include <string>
#include <vector>

namespace dune {

struct PreloadConfig {
  bool disable = false;  // DUNE_DISABLE=1: stay native
  bool strict = false;   // DUNE_STRICT=1: exit 127 rather than run natively
  bool help = false;     // DUNE_HELP=1: print the knobs and exit
  // One line per bad value: the knob named, the default used.
  std::vector<std::string> warnings;
};

// getenv_fn: how to read a variable (getenv; a table in tests).
PreloadConfig read_preload_config(const char* (*getenv_fn)(const char*));

// The text DUNE_HELP=1 prints.
const char* preload_help();

}  // namespace dune
