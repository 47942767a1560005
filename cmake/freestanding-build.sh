#!/usr/bin/env bash
# freestanding-build.sh ARCH SOURCE_DIR BUILD_DIR [CMAKE OPTION...]
# Builds libnvme-core alone with cmake/toolchain-ARCH-freestanding.cmake
# (-ffreestanding -nostdlib, warnings as errors), with the options given
# (e.g. -DNVME_LOG=OFF), and checks the archive needs nothing from outside
# itself, and libnvmectl's nothing but the core.
set -euo pipefail
arch=$1 src=$2 build=$3
shift 3
tc="$src/cmake/toolchain-$arch-freestanding.cmake"
rm -rf "$build"
cmake -S "$src/libnvme-core" -B "$build" -DCMAKE_TOOLCHAIN_FILE="$tc" -DCMAKE_BUILD_TYPE=Release \
      "$@" >/dev/null
# Checked as kernels build it: at -O2 (the toolchain files'; CMake's Release
# appended -O3 before they kept it), unless the options choose another.
case " $* " in
  *CMAKE_C_FLAGS_RELEASE=* | *CMAKE_BUILD_TYPE=*) ;;
  *)
    for f in "$build/CMakeFiles/nvme-core.dir/flags.make" "$build/libnvmectl/CMakeFiles/nvmectl-lib.dir/flags.make"; do
      opt=$(grep '^C_FLAGS' "$f" | grep -o -- '-O[0-9sgz]*' | tail -1)
      [ "$opt" = -O2 ] || { echo "FAIL: $arch compiles $(basename "$(dirname "$f")") at ${opt:-no -O}, not -O2"; exit 1; }
    done
    ;;
esac
cmake --build "$build" -- -j2 >/dev/null
nm_tool=$(sed -n 's/^set(NVME_NM \([^ ]*\) .*/\1/p' "$tc")
lib="$build/libnvme-core.a"
echo "$arch: $(du -b "$lib" | cut -f1) bytes archive, text+data $("${nm_tool%nm}size" -t "$lib" | tail -1 | awk '{print $1+$2}') bytes"
# NVME_LINKER_DEFINED: symbols the ISA's linker defines (a regex), which
# no kernel provides either.
allowed=$(sed -n 's/^set(NVME_LINKER_DEFINED "\(.*\)" .*/\1/p' "$tc")
"$src/cmake/check-archive-symbols.sh" "$nm_tool" "$lib" ${allowed:+"$allowed"}
# libnvmectl, built beside it, needs nothing but the core.
ctl="$build/libnvmectl/libnvmectl.a"
[ ! -f "$ctl" ] || "$src/cmake/check-archive-symbols.sh" "$nm_tool" "$lib;$ctl" ${allowed:+"$allowed"}
