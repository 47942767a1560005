#!/usr/bin/env bash
# run.sh SOURCE_DIR WORK_DIR [C_COMPILER]
# Installs nvme-core (libraries only) into WORK_DIR/prefix, then builds and
# runs tests/consumer against that prefix twice: with find_package(nvme-core)
# and with pkg-config.  Then once more with find_package against a second
# install built with NVME_STATUS_NAMES=OFF (generic status text) and
# absolute library and header directories, and with pkg-config.  Fails
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
  cmake -S "$src" -B "$b" -DNVME_LIBS_ONLY=ON -DCMAKE_BUILD_TYPE=Release \
        -DCMAKE_C_COMPILER="$cc" -DCMAKE_INSTALL_PREFIX="$work/not-the-prefix" \
        -DCMAKE_INSTALL_LIBDIR=lib "$@" >/dev/null
  cmake --build "$b" -j2 >/dev/null
  cmake --install "$b" --prefix "$p" >/dev/null
  find "$p" -type f | sed "s|^$p/|  |" | sort
}
# The installed headers are the tree's public headers, every one of them
# and nothing else (the install list in cmake/NvmeInstall.cmake is by name).
check_headers() { # INCLUDE_DIR
  local want got
  want=$(cd "$src" && ls libnvme-core/include/nvme/*.h libnvmectl/include/nvme/*.h | xargs -n1 basename | sort)
  got=$(ls "$1/nvme" | sort)
  if [ "$want" != "$got" ]; then
    echo "FAIL: $1/nvme differs from the tree's public headers (< tree, > installed):"
    diff <(echo "$want") <(echo "$got") || true
    exit 1
  fi
  echo "installed headers: the tree's $(echo "$want" | wc -l) public headers"
}
with_find_package() { # PREFIX BUILD_DIR EXPECTED_STATUS_NAME
  echo "--- consumer with find_package(nvme-core) from $1"
  cmake -S "$src/tests/consumer" -B "$2" -DCMAKE_PREFIX_PATH="$1" -DCMAKE_C_COMPILER="$cc" >/dev/null
  local dir
  dir=$(sed -n 's/^nvme-core_DIR:PATH=//p' "$2/CMakeCache.txt")
  case "$dir" in
    "$1"/*) echo "find_package(nvme-core): $dir" ;;
    *) echo "FAIL: find_package(nvme-core) took $dir, not the package in $1"; exit 1 ;;
  esac
  cmake --build "$2" >/dev/null
  "$2/consumer" "$3"
}

install_tree "$prefix" "$work/lib"
check_headers "$prefix/include"
with_find_package "$prefix" "$work/cmake" "LBA Out of Range"

with_pkg_config() { # PC_DIR BUILD_DIR EXPECTED_STATUS_NAME
  echo "--- consumer with pkg-config from $1"
  mkdir -p "$2"
  PKG_CONFIG_LIBDIR=$1 PKG_CONFIG_PATH= pkg-config --exists --print-errors nvmectl
  echo "pkg-config --cflags --libs nvmectl: $(PKG_CONFIG_LIBDIR=$1 PKG_CONFIG_PATH= pkg-config --cflags --libs nvmectl)"
  PKG_CONFIG_LIBDIR=$1 PKG_CONFIG_PATH= make -s -f "$src/tests/consumer/Makefile" CC="$cc" O="$2"
  "$2/consumer" "$3"
}
with_pkg_config "$prefix/lib/pkgconfig" "$work/pkgconfig" "LBA Out of Range"

# A C++ kernel includes the same headers (extern "C", static_assert).
cxx=$(command -v c++ || command -v g++ || true)
if [ -n "$cxx" ]; then
  echo "--- consumer in C++ ($cxx -std=c++11) with pkg-config"
  # shellcheck disable=SC2046 # pkg-config's words are separate flags
  "$cxx" -std=c++11 -Wall -Wextra -Werror $(PKG_CONFIG_LIBDIR=$prefix/lib/pkgconfig PKG_CONFIG_PATH= pkg-config --cflags nvmectl) \
         -o "$work/consumer-cxx" "$src/tests/consumer/cxx.cpp" \
         $(PKG_CONFIG_LIBDIR=$prefix/lib/pkgconfig PKG_CONFIG_PATH= pkg-config --libs nvmectl)
  "$work/consumer-cxx" && echo "consumer (C++): passed"
fi

# The second install also takes absolute library and header directories
# (as distributions pass them): the .pc files must name them as they are.
# Outside the source tree, where CMake refuses an absolute include path.
nn=$(mktemp -d)/prefix-nonames
trap 'rm -rf "${nn%/prefix-nonames}"' EXIT
install_tree "$nn" "$work/lib-nonames" -DNVME_STATUS_NAMES=OFF \
             -DCMAKE_INSTALL_LIBDIR="$nn/lib" -DCMAKE_INSTALL_INCLUDEDIR="$nn/inc"
check_headers "$nn/inc"
with_find_package "$nn" "$work/cmake-nonames" "SCT 0 SC 80"
with_pkg_config "$nn/lib/pkgconfig" "$work/pkgconfig-nonames" "SCT 0 SC 80"
