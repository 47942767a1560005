#!/usr/bin/env bash
# run.sh SOURCE_DIR WORK_DIR [C_COMPILER]
# Installs nvme-core (libraries only) into WORK_DIR/prefix, then builds and
# runs tests/consumer against that prefix twice: with find_package(nvme-core)
# and with pkg-config.  Then once more with find_package against a second
# install built with NVME_STATUS_NAMES=OFF (generic status text).  Fails
# when any build or run fails.
set -euo pipefail
src=$1 work=$2 cc=${3:-cc}
prefix=$work/prefix
rm -rf "$work"
mkdir -p "$work"

install_tree() { # PREFIX BUILD_DIR [cmake options]
  local p=$1 b=$2
  shift 2
  echo "--- install nvme-core into $p $*"
  # The prefix given at install time, as PORTING.md does (cmake --install
  # --prefix P): the configured one is elsewhere, so a package that
  # remembered it would point there.
  cmake -S "$src" -B "$b" -DNVME_LIBS_ONLY=ON -DCMAKE_BUILD_TYPE=Release "$@" \
        -DCMAKE_C_COMPILER="$cc" -DCMAKE_INSTALL_PREFIX="$work/not-the-prefix" \
        -DCMAKE_INSTALL_LIBDIR=lib >/dev/null
  cmake --build "$b" -j2 >/dev/null
  cmake --install "$b" --prefix "$p" >/dev/null
  find "$p" -type f | sed "s|^$p/|  |" | sort
}
with_find_package() { # PREFIX BUILD_DIR EXPECTED_STATUS_NAME
  echo "--- consumer with find_package(nvme-core) from $1"
  cmake -S "$src/tests/consumer" -B "$2" -DCMAKE_PREFIX_PATH="$1" -DCMAKE_C_COMPILER="$cc" >/dev/null
  cmake --build "$2" >/dev/null
  "$2/consumer" "$3"
}

install_tree "$prefix" "$work/lib"
with_find_package "$prefix" "$work/cmake" "LBA Out of Range"

echo "--- consumer with pkg-config"
mkdir -p "$work/pkgconfig"
echo "pkg-config --cflags --libs nvmectl: $(PKG_CONFIG_PATH=$prefix/lib/pkgconfig pkg-config --cflags --libs nvmectl)"
PKG_CONFIG_PATH=$prefix/lib/pkgconfig make -s -f "$src/tests/consumer/Makefile" CC="$cc" O="$work/pkgconfig"
"$work/pkgconfig/consumer" "LBA Out of Range"

install_tree "$work/prefix-nonames" "$work/lib-nonames" -DNVME_STATUS_NAMES=OFF
with_find_package "$work/prefix-nonames" "$work/cmake-nonames" "SCT 0 SC 80"
