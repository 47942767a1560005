#!/usr/bin/env bash
# nvmectl-leave-out.sh SOURCE_DIR WORK_DIR [C_COMPILER [NM]]
# A second host build with NVMECTL_LEAVE_OUT="zns;resv;telemetry", its
# nvmectl run on the simulator: each left-out command is still known by
# name and answers "nvmectl <cmd>: not built in (NVMECTL_LEAVE_OUT
# <group>)" with a failure; kept commands work; help lists only what is
# built in; and libnvmectl.a defines none of the symbols of the left-out
# groups' files.  Fails when any of that does not hold.
set -euo pipefail
src=$1 work=$2 cc=${3:-cc} nm=${4:-nm}
build=$work/build
rm -rf "$work"
mkdir -p "$work"
cmake -S "$src" -B "$build" -DCMAKE_BUILD_TYPE=Debug -DCMAKE_C_COMPILER="$cc" \
      -DNVME_QEMU_TESTS=OFF -DNVME_EXOS_TESTS=OFF "-DNVMECTL_LEAVE_OUT=zns;resv;telemetry" >/dev/null
cmake --build "$build" --target nvmectl -j2 >/dev/null
tool=$build/nvmectl
lib=$(find "$build" -name libnvmectl.a | head -n 1)
rc=0
fail() { echo "FAIL: $*"; rc=1; }

# Left out: the one line, a failure (the simulator itself finds no fault).
while IFS='|' read -r line name group; do
  set +e
  out=$("$tool" $line 2>&1)
  st=$?
  set -e
  want="nvmectl $name: not built in (NVMECTL_LEAVE_OUT $group)"
  if [ "$st" -ne 1 ] || [ "$out" != "$want" ]; then
    fail "nvmectl $line: exit $st, printed:"; echo "$out" | sed 's/^/    /'
  else
    echo "ok: nvmectl $line -> $want (exit 1)"
  fi
done <<'CASES'
zns-id-ns -n 1|zns-id-ns|zns
zns id-ns -n 1|zns-id-ns|zns
report-zones -n 1|report-zones|zns
resv-report -n 1|resv-report|resv
telemetry-log|telemetry-log|telemetry
CASES

# Kept: they run (groups not left out, and commands that moved files).
for line in "id-ctrl" "supported-log-pages" "get-ns-id" "reset" "read -n 1 -s 0"; do
  if ! out=$("$tool" $line 2>&1); then
    fail "nvmectl $line failed:"; echo "$out" | sed 's/^/    /'
  else
    echo "ok: nvmectl $line runs"
  fi
done
"$tool" get-ns-id | grep -q "namespace-id:1" || fail "get-ns-id printed no namespace-id:1"

# Help: the built-in commands, not the left-out ones, and what is left out.
usage=$("$tool" help)
echo "$usage" | grep -q '^  id-ctrl ' || fail "help lacks id-ctrl"
echo "$usage" | grep -q '^  supported-log-pages' || fail "help lacks supported-log-pages"
if echo "$usage" | grep -Eq '^  (zns-id-ns|report-zones|resv-report|telemetry-log)( |$)'; then
  fail "help lists a left-out command"
fi
echo "$usage" | grep -qxF '  not built in (NVMECTL_LEAVE_OUT): zns resv telemetry' ||
  fail "help does not say what is left out"

# The archive: none of the global symbols the left-out files define.
defined=$("$nm" -g --defined-only "$lib" | awk 'NF==3 {print $3}' | sort -u)
for f in ctl_zns.c ctl_resv.c ctl_telemetry.c; do
  obj=$work/${f%.c}.o
  "$cc" -c -I"$src/libnvmectl/include" -I"$src/libnvme-core/include" -o "$obj" "$src/libnvmectl/src/$f"
  syms=$("$nm" -g --defined-only "$obj" | awk 'NF==3 {print $3}' | sort -u)
  [ -n "$syms" ] || fail "$f defines no global symbol (cannot check)"
  both=$(comm -12 <(echo "$syms") <(echo "$defined"))
  if [ -n "$both" ]; then
    fail "libnvmectl.a still defines $f's $(echo $both)"
  else
    echo "ok: libnvmectl.a has none of $f's symbols ($(echo $syms))"
  fi
done
exit $rc
