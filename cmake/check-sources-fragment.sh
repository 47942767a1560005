#!/usr/bin/env bash
# check-sources-fragment.sh ROOT "CORE_SOURCES" "NVMECTL_SOURCES" ["LEAVE_OUT" GROUP=FILES...]
# The makefile fragment libnvme-core/nvme-core-sources.mk must list the
# same sources as the CMake targets (absolute paths, ';' or ' ' separated),
# so make-based kernels build what CI tests.  NVMECTL_SOURCES is what this
# CMake build compiles with its NVMECTL_LEAVE_OUT (LEAVE_OUT, the same
# value given to make); each GROUP=FILES (libnvmectl/CMakeLists.txt's
# groups, FILES ';' or ',' separated) must be a group of the fragment too,
# leaving out those files and defining NVMECTL_NO_<GROUP>=1.
set -euo pipefail
root=$1
# make splits every path at blanks (the fragment's own NVME_CORE_ROOT, its
# source lists, an include): from such a tree it cannot work, so say so
# instead of make's "/tmp/my: Is a directory".
case $root in *[[:space:]]*)
  echo "check-sources-fragment.sh: the source tree '$root' has a blank in its path, which make" \
    "cannot handle (nvme-core-sources.mk): clone nvme-core to a path without blanks"
  exit 1 ;;
esac
leave_out=${4:-}
norm() { tr ' ;,' '\n\n\n' | sed '/^$/d' | sort; }
frag() { # NVMECTL_LEAVE_OUT: the core list, the nvmectl list, the flags, the groups
  printf 'include %s/libnvme-core/nvme-core-sources.mk\nall:\n\t@echo $(NVME_CORE_SOURCES)\n\t@echo $(NVMECTL_SOURCES)\n\t@echo $(NVME_CORE_CPPFLAGS)\n\t@echo $(NVMECTL_GROUPS)\n' "$root" |
    make -s -f - CC="${CC:-cc}" NVMECTL_LEAVE_OUT="$(echo "$1" | tr ';' ' ')"
}
got=$(frag "$leave_out")
core_mk=$(echo "$got" | sed -n 1p | norm)
ctl_mk=$(echo "$got" | sed -n 2p | norm)
groups_mk=$(echo "$got" | sed -n 4p | norm)
core_cm=$(echo "$2" | norm)
ctl_cm=$(echo "$3" | norm)
rc=0
if [ "$core_mk" != "$core_cm" ]; then
  echo "NVME_CORE_SOURCES differs from libnvme-core/CMakeLists.txt:"; diff <(echo "$core_mk") <(echo "$core_cm") || true; rc=1
fi
if [ "$ctl_mk" != "$ctl_cm" ]; then
  echo "NVMECTL_SOURCES (NVMECTL_LEAVE_OUT='$leave_out') differs from libnvmectl/CMakeLists.txt:"; diff <(echo "$ctl_mk") <(echo "$ctl_cm") || true; rc=1
fi
shift 4 2>/dev/null || shift $#
groups_cm=""
for spec in "$@"; do
  g=${spec%%=*} files=$(echo "${spec#*=}" | norm)
  groups_cm+="$g "
  out=$(frag "$leave_out $g")
  ctl_g=$(echo "$out" | sed -n 2p | norm)
  want=$(comm -23 <(echo "$ctl_cm") <(echo "$files"))
  if [ "$ctl_g" != "$want" ]; then
    echo "NVMECTL_LEAVE_OUT=$g: the fragment's NVMECTL_SOURCES differ from CMake's group:"; diff <(echo "$ctl_g") <(echo "$want") || true; rc=1
  fi
  def="-DNVMECTL_NO_$(echo "$g" | tr a-z A-Z)=1"
  if ! echo "$out" | sed -n 3p | tr ' ' '\n' | grep -qxF -- "$def"; then
    echo "NVMECTL_LEAVE_OUT=$g: NVME_CORE_CPPFLAGS lacks $def"; rc=1
  fi
done
if [ $# -gt 0 ] && [ "$groups_mk" != "$(echo "$groups_cm" | norm)" ]; then
  echo "NVMECTL_GROUPS of the fragment differ from libnvmectl/CMakeLists.txt's:"; diff <(echo "$groups_mk") <(echo "$groups_cm" | norm) || true; rc=1
fi
# The flags follow the target clang is given (in CFLAGS or in
# NVME_CORE_TARGET_CFLAGS): aarch64 needs -mno-outline-atomics, which
# clang refuses for any other target.
flags() { # CC VARIABLE=VALUE: NVME_CORE_REQUIRED_CFLAGS
  printf 'include %s/libnvme-core/nvme-core-sources.mk\nall:\n\t@echo $(NVME_CORE_REQUIRED_CFLAGS)\n' "$root" |
    make -s -f - CC="$1" "$2"
}
if command -v clang >/dev/null; then
  for t in "CFLAGS=-O2 --target=aarch64-linux-gnu yes" "NVME_CORE_TARGET_CFLAGS=--target=aarch64-none-elf yes" \
           "CFLAGS=--target=x86_64-linux-gnu no" "CFLAGS=--target=riscv64-none-elf no"; do
    want=${t##* } var=${t% *}
    got=no
    flags clang "$var" | tr ' ' '\n' | grep -qx -- -mno-outline-atomics && got=yes
    if [ "$got" != "$want" ]; then
      echo "clang $var: -mno-outline-atomics in NVME_CORE_REQUIRED_CFLAGS: $got, wanted $want"; rc=1
    fi
  done
fi
# The usage example at the top of the fragment works as written: its lines
# (the recipe's indent a tab), /path/to/nvme-core this tree, build the
# first object into a fresh directory.
ex=$(mktemp -d)
{
  printf 'BUILD := %s/out\nKERNEL_CFLAGS := -O0\n' "$ex"
  awk '/^#     include /{on=1} on&&/^#$/{exit} on' "$root/libnvme-core/nvme-core-sources.mk" |
    sed -e 's|^#     ||' -e 's|^        |\t|' -e "s|/path/to/nvme-core|$root|"
  printf 'example-first-object: $(firstword $(NVME_OBJS))\n'
} >"$ex/Makefile"
if ! make -s -C "$ex" CC="${CC:-cc}" example-first-object >"$ex/log" 2>&1 || [ -z "$(find "$ex/out" -name '*.o' 2>/dev/null)" ]; then
  echo "the usage example of nvme-core-sources.mk does not build:"; cat "$ex/Makefile" "$ex/log"; rc=1
fi
rm -rf "$ex"
[ $rc -ne 0 ] || echo "nvme-core-sources.mk lists the CMake sources: $(echo "$core_mk" | wc -l) core, $(echo "$ctl_mk" | wc -l) nvmectl, $# nvmectl group(s) alike"
exit $rc
