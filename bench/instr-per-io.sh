#!/usr/bin/env bash
# instr-per-io.sh - instructions the core executes per 4 KiB read, counted
# by callgrind on the hosted simulator (instructions, not seconds: the same
# figure on a busy or idle machine).  Only functions in libnvme-core/src
# count: the simulator and the OSAL callbacks are excluded.  Bring-up is
# removed by running each mode twice (N commands and 0) and dividing the
# difference by N.  Prints one line per mode:
#   core_instructions_per_io=N mode=qd1-blocking|qd32-async|qd32-batch
# (qd32-async: nvme_submit_rw per command, NVME_SUBMIT_NO_DOORBELL and one
# doorbell per 32; qd32-batch: 32 at a time through nvme_submit_rw_batch).
# Usage: bench/instr-per-io.sh [build dir, default build-bench] [N, default 20000]
# env: INSTR_TIMEOUT=S, seconds one run under callgrind may take (default 600;
#      N=20000 takes about 10 s): a benchmark that hangs fails the script.
# Needs valgrind (Debian package valgrind: valgrind, callgrind_annotate).
# Fails (exit 1, a message on stderr) rather than print a figure when a tool
# is missing, the benchmark fails under callgrind or no core function is in
# its profile.
set -euo pipefail
die() { echo "instr-per-io.sh: $*" >&2; exit 1; }
src=$(cd "$(dirname "$0")/.." && pwd)
out=${1:-$src/build-bench}
n=${2:-20000}
limit=${INSTR_TIMEOUT:-600}
for v in "$n" "$limit"; do
  case $v in '' | *[!0-9]* | 0*) die "N and INSTR_TIMEOUT must be positive whole numbers, not '$v'" ;; esac
done
for t in valgrind callgrind_annotate; do
  command -v "$t" >/dev/null || die "$t not found (apt-get install valgrind)"
done
cmake -S "$src" -B "$out" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DNVME_QEMU_TESTS=OFF \
      -DNVME_EXOS_TESTS=OFF -DNVME_DEBUG=OFF >/dev/null
cmake --build "$out" --target nvme-bench -j "$(nproc)" >/dev/null
bench=$out/nvme-bench
[ -x "$bench" ] || die "$bench was not built"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

core_ir() { # $1 commands, $2 mode; fails unless the run and the profile are good
  local f=$tmp/callgrind.$1.$2 log=$tmp/log.$1.$2 s rc=0
  timeout "$limit" valgrind --tool=callgrind --callgrind-out-file="$f" --log-file="$log" \
    "$bench" "$1" "$2" >/dev/null 2>"$log.stderr" || rc=$?
  if [ "$rc" -ne 0 ]; then
    echo "instr-per-io.sh: nvme-bench $1 $2 failed under callgrind (exit $rc$([ "$rc" -eq 124 ] && echo ", timed out after $limit s")):" >&2
    cat "$log.stderr" "$log" >&2 2>/dev/null
    return 1
  fi
  s=$(callgrind_annotate --auto=no --inclusive=no --threshold=100 "$f" |
      awk '/libnvme-core\/src\// { gsub(",", "", $1); s += $1 } END { print s + 0 }')
  [ "$s" -gt 0 ] || { echo "instr-per-io.sh: no libnvme-core/src function in the profile of nvme-bench $1 $2" >&2; return 1; }
  echo "$s"
}

for m in qd1 qd32 batch; do
  full=$(core_ir "$n" "$m")
  base=$(core_ir 0 "$m")
  [ "$full" -gt "$base" ] || die "mode $m: $full instructions with $n commands, not more than $base without"
  case $m in qd1) name=qd1-blocking ;; qd32) name=qd32-async ;; batch) name=qd32-batch ;; esac
  echo "core_instructions_per_io=$(( (full - base) / n )) mode=$name"
done
