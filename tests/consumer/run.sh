#!/usr/bin/env bash
# run.sh SOURCE_DIR WORK_DIR [C_COMPILER]
# Installs nvme-core (libraries only) into WORK_DIR/prefix, then builds and
# runs tests/consumer against that prefix twice: with find_package(nvme-core)
# and with pkg-config.  Fails when either build or run fails.
set -euo pipefail
src=$1 work=$2 cc=${3:-cc}
prefix=$work/prefix
rm -rf "$work"
mkdir -p "$work"

echo "--- install nvme-core into $prefix"
cmake -S "$src" -B "$work/lib" -DNVME_LIBS_ONLY=ON -DCMAKE_BUILD_TYPE=Release \
      -DCMAKE_C_COMPILER="$cc" -DCMAKE_INSTALL_PREFIX="$prefix" -DCMAKE_INSTALL_LIBDIR=lib >/dev/null
cmake --build "$work/lib" -j2 >/dev/null
cmake --install "$work/lib" >/dev/null
find "$prefix" -type f | sed "s|^$prefix/|  |" | sort

echo "--- consumer with find_package(nvme-core)"
cmake -S "$src/tests/consumer" -B "$work/cmake" -DCMAKE_PREFIX_PATH="$prefix" \
      -DCMAKE_C_COMPILER="$cc" >/dev/null
cmake --build "$work/cmake" >/dev/null
"$work/cmake/consumer"

echo "--- consumer with pkg-config"
mkdir -p "$work/pkgconfig"
echo "pkg-config --cflags --libs nvmectl: $(PKG_CONFIG_PATH=$prefix/lib/pkgconfig pkg-config --cflags --libs nvmectl)"
PKG_CONFIG_PATH=$prefix/lib/pkgconfig make -s -f "$src/tests/consumer/Makefile" CC="$cc" O="$work/pkgconfig"
"$work/pkgconfig/consumer"
