#!/usr/bin/env bash
# check_install.sh BUILD_DIR: installs into a scratch prefix and checks what a
# user of the library finds there: the files, find_package(dune), pkg-config.
set -euo pipefail
build=$1
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
prefix=$(mktemp -d)
trap 'rm -rf "$prefix"' EXIT
cmake --install "$build" --prefix "$prefix" >/dev/null
for f in lib/libdune.so lib/libdune.a include/dune/dune.h include/dune/trace.h \
         lib/cmake/dune/duneConfig.cmake lib/cmake/dune/duneTargets.cmake lib/pkgconfig/dune.pc \
         lib/libdune_preload.so bin/dunetrace share/man/man1/dunetrace.1.gz share/man/man3/libdune.3.gz \
         share/man/man7/libdune_preload.7.gz share/bash-completion/completions/dunetrace; do
  [[ -e $prefix/$f ]] || { echo "check_install: missing $f"; exit 1; }
done
echo "check_install: files ok"

# find_package(dune) gives dune::dune (shared) and dune::dune_static.
cmake -S "$here/consumer" -B "$prefix/consumer" -DCMAKE_PREFIX_PATH="$prefix" >/dev/null
cmake --build "$prefix/consumer" >/dev/null
LD_LIBRARY_PATH=$prefix/lib "$prefix/consumer/consumer_shared"
"$prefix/consumer/consumer_static"
echo "check_install: find_package ok"

# dunetrace finds the installed shim beside it (PREFIX/bin -> PREFIX/lib).
"$prefix/bin/dunetrace" -c -o "$prefix/trace.txt" /bin/true
grep -q -E "total|no events|processes started" "$prefix/trace.txt" || { echo "check_install: dunetrace -c wrote no table"; exit 1; }
echo "check_install: dunetrace ok"

# pkg-config.
export PKG_CONFIG_PATH=$prefix/lib/pkgconfig
gcc -o "$prefix/pc" "$here/consumer/consumer.c" $(pkg-config --cflags --libs dune)
LD_LIBRARY_PATH=$prefix/lib "$prefix/pc"
echo "check_install: pkg-config ok"

# dunestat goes to bin/ and finds the installed library by itself (its RPATH).
if [[ -e $build/tools/dunestat/dunestat ]]; then
  [[ -x $prefix/bin/dunestat ]] || { echo "check_install: missing bin/dunestat"; exit 1; }
  # Whole output first: `| grep -q` would end the pipe early, and pipefail would count dunestat's SIGPIPE.
  help=$(env -u LD_LIBRARY_PATH "$prefix/bin/dunestat" --help) || { echo "check_install: bin/dunestat --help failed"; exit 1; }
  [[ $help == *exit_floor* ]] || { echo "check_install: bin/dunestat --help does not list its rows"; exit 1; }
  [[ $(ldd "$prefix/bin/dunestat" | grep libdune) == *"$prefix/bin/../lib/libdune.so"* ]] ||
    { echo "check_install: bin/dunestat does not use the installed libdune: $(ldd "$prefix/bin/dunestat" | grep libdune)"; exit 1; }
  echo "check_install: dunestat ok"
fi
