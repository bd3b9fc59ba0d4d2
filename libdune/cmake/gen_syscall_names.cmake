# Generates the x86-64 syscall name table from the kernel headers this build uses.
# Input: UNISTD (path to asm/unistd_64.h), OUTPUT (the .inc file to write).
file(STRINGS "${UNISTD}" lines REGEX "^#define __NR_[a-z0-9_]+ [0-9]+")
set(out "// Generated from ${UNISTD}: {number, \"name\"}.\n")
foreach(line IN LISTS lines)
  if(line MATCHES "^#define __NR_([a-z0-9_]+) ([0-9]+)")
    string(APPEND out "{${CMAKE_MATCH_2}, \"${CMAKE_MATCH_1}\"},\n")
  endif()
endforeach()
file(WRITE "${OUTPUT}.tmp" "${out}")
file(COPY_FILE "${OUTPUT}.tmp" "${OUTPUT}" ONLY_IF_DIFFERENT)
