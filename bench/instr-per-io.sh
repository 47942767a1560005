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
set -euo pipefail
src=$(cd "$(dirname "$0")/.." && pwd)
out=${1:-$src/build-bench}
n=${2:-20000}
cmake -S "$src" -B "$out" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DNVME_QEMU_TESTS=OFF \
      -DNVME_EXOS_TESTS=OFF -DNVME_DEBUG=OFF >/dev/null
cmake --build "$out" --target nvme-bench -j "$(nproc)" >/dev/null
bench=$(find "$out" -name nvme-bench -type f -perm -u+x | head -n 1)

core_ir() { # $1 commands, $2 mode
  local f
  f=$(mktemp)
  valgrind --tool=callgrind --callgrind-out-file="$f" "$bench" "$1" "$2" >/dev/null 2>&1
  callgrind_annotate --auto=no --inclusive=no --threshold=100 "$f" 2>/dev/null |
    awk '/libnvme-core\/src\// { gsub(",", "", $1); s += $1 } END { print s + 0 }'
  rm -f "$f"
}

for m in qd1 qd32 batch; do
  full=$(core_ir "$n" "$m")
  base=$(core_ir 0 "$m")
  case $m in qd1) name=qd1-blocking ;; qd32) name=qd32-async ;; batch) name=qd32-batch ;; esac
  echo "core_instructions_per_io=$(( (full - base) / n )) mode=$name"
done
