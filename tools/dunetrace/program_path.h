// program_path.h - finding what to run: PROG on PATH, and the preload shim.
#pragma once

#include <string>

#include "parsed.h"

namespace dunetrace {

// PROG as execvp would find it: as given when it has a '/', else the first
// match on PATH. Fails with "Can't stat 'x': ..." or "'x' is not executable"
// (dunetrace then exits with kExitCannotRun).
Parsed<std::string> find_program(const std::string& name);

// libdune_preload.so beside dunetrace: in the build tree, or installed
// (PREFIX/bin/dunetrace -> PREFIX/LIBDIR/libdune_preload.so). self: the path
// of dunetrace's own executable.
Parsed<std::string> find_shim(const std::string& self);

}  // namespace dunetrace
