#!/usr/bin/env bash
# size.sh [BUILD_DIR] - size of libnvme-core at -Os for x86_64, with the
# freestanding toolchain file (cmake/toolchain-x86_64-freestanding.cmake):
# .text, .data (+.bss) and .rodata per object, with and without the
# status-name tables (NVME_STATUS_NAMES=ON/OFF), and the totals.  The
# nvmectl front end (libnvmectl) is not part of the core and not counted.
# Target: core .text <= 16 KiB without the tables (printed as PASS/OVER).
# Last, what a kernel using only the block-I/O API links: the core built
# with -ffunction-sections -fdata-sections (no status tables), linked with
# --gc-sections from bench/size_min.c, whose own bytes are not counted;
# as built by default, and with NVME_LOG=OFF.
# Fails (exit 1, a message) rather than print a figure when a tool is
# missing or a size comes out empty.
set -euo pipefail
die() { echo "size.sh: $*" >&2; exit 1; }
src=$(cd "$(dirname "$0")/.." && pwd)
out=${1:-$src/build-size}
tc=$src/cmake/toolchain-x86_64-freestanding.cmake
size_tool=x86_64-linux-gnu-size
cc=x86_64-linux-gnu-gcc
nm_tool=x86_64-linux-gnu-nm
limit=16384
for t in cmake "$cc" x86_64-linux-gnu-ar "$size_tool" "$nm_tool"; do
  command -v "$t" >/dev/null || die "$t not found (Debian 12 packages: cmake; gcc and binutils on an x86-64 host, gcc-x86-64-linux-gnu and binutils-x86-64-linux-gnu on others)"
done

measure() { # NAME STATUS_NAMES
  local b=$out/$1
  cmake -S "$src/libnvme-core" -B "$b" -DCMAKE_TOOLCHAIN_FILE="$tc" -DCMAKE_BUILD_TYPE=MinSizeRel \
        -DCMAKE_C_FLAGS_MINSIZEREL="-Os -DNDEBUG" -DNVME_STATUS_NAMES="$2" >/dev/null
  cmake --build "$b" --target nvme-core -- -j2 >/dev/null
  echo "libnvme-core, x86_64 -Os, NVME_STATUS_NAMES=$2"
  # size -A per archive member: sum .text*, .data*/.bss*, .rodata* sections.
  "$size_tool" -A "$b/libnvme-core.a" | awk -v limit="$limit" -v names="$2" '
    /\(ex / { obj = $1; sub(/\.c\.obj$|\.o$/, ".c", obj); objs[++n] = obj; next }
    /^\.text/   { t[obj] += $2 }
    /^\.(data|bss)/ { d[obj] += $2 }
    /^\.rodata/ { r[obj] += $2 }
    END {
      if (n == 0) { print "size.sh: no object in libnvme-core.a" > "/dev/stderr"; exit 1 }
      printf "  %-12s %8s %8s %8s\n", "object", ".text", ".data", ".rodata"
      for (i = 1; i <= n; i++) {
        o = objs[i]
        printf "  %-12s %8d %8d %8d\n", o, t[o], d[o], r[o]
        tt += t[o]; td += d[o]; tr += r[o]
      }
      printf "  %-12s %8d %8d %8d   (.text %.1f KiB, all %.1f KiB)\n", "total", tt, td, tr,
             tt / 1024, (tt + td + tr) / 1024
      if (names == "OFF")
        printf "  core .text without status tables: %d bytes, target <= %d: %s\n", tt, limit,
               tt <= limit ? "PASS" : "OVER"
    }'
}

measure names ON
echo
measure no-names OFF

# Block-I/O-only kernel: the freestanding flags of the toolchain file;
# once as built by default, once also without messages (NVME_LOG=OFF).
link_min() { # NAME LOG
  local b=$out/$1
  echo
  cmake -S "$src/libnvme-core" -B "$b" -DCMAKE_TOOLCHAIN_FILE="$tc" -DCMAKE_BUILD_TYPE=MinSizeRel \
        -DCMAKE_C_FLAGS_MINSIZEREL="-Os -DNDEBUG -ffunction-sections -fdata-sections" \
        -DNVME_STATUS_NAMES=OFF -DNVME_LOG="$2" >/dev/null
  cmake --build "$b" --target nvme-core -- -j2 >/dev/null
  tc_flags=$(sed -n 's/^set(CMAKE_C_FLAGS_INIT "\(.*\)")$/\1/p' "$tc")
  # shellcheck disable=SC2086 # tc_flags is a list of flags
  "$cc" $tc_flags -Os -DNDEBUG -ffunction-sections -fdata-sections -I"$src/libnvme-core/include" \
        -c "$src/bench/size_min.c" -o "$b/size_min.o"
  # shellcheck disable=SC2086
  "$cc" $tc_flags -static -Wl,--gc-sections -Wl,-e,nvme_size_min_entry \
        -o "$b/size_min.elf" "$b/size_min.o" "$b/libnvme-core.a"
  text=$("$size_tool" -A "$b/size_min.elf" | awk '/^\.text/ { t += $2 } END { print t + 0 }')
  rodata=$("$size_tool" -A "$b/size_min.elf" | awk '/^\.rodata/ { t += $2 } END { print t + 0 }')
  # The entry file's own functions (size_min.c) are not the core's.
  own=$("$nm_tool" -S -t d "$b/size_min.o" | awk 'NF == 4 && $3 ~ /^[Tt]$/ { s += $2 } END { print s + 0 }')
  [ "$text" -gt "$own" ] || die "$b/size_min.elf: $text bytes of .text, no more than size_min.c's own $own"
  echo "libnvme-core, x86_64 -Os, NVME_STATUS_NAMES=OFF, NVME_LOG=$2, -ffunction-sections, --gc-sections"
  echo "  block-I/O kernel links: $((text - own)) bytes .text, $rodata bytes .rodata"
}
link_min gc ON
link_min gc-nolog OFF
