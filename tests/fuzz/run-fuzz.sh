#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# run-fuzz.sh - build the libFuzzer target nvme-fuzz-device with clang and
# run it for a fixed number of executions, starting from the corpus in
# tests/fuzz/corpus (read only: new inputs and crash reproducers go to a
# scratch directory, never into the repository).
#
# Prints exactly one summary line:   fuzz: executions=N crashes=C
# and exits non-zero when libFuzzer found a crash, a leak, a timeout, an
# out-of-memory or a slow unit (the reproducer's path is printed before
# the summary).  An input takes about 2 ms; one taking over 10 s
# (libFuzzer's -report_slow_units) has made the core do unbounded-looking
# work, as a device claiming NN = 805,306,369 without an Active Namespace
# ID list once did (one Identify per NSID, now capped), so it counts.
#
# Environment:
#   NVME_FUZZ_RUNS     executions (default 80000: about 100 s on this 2-core machine)
#   NVME_FUZZ_BUILD    clang build directory (default build-fuzz/)
#   NVME_FUZZ_SCRATCH  scratch directory (default a new mktemp -d)
#   NVME_FUZZ_SEED     libFuzzer -seed (default 1: the same run every time)
#   NVME_FUZZ_LAX      1: lifecycle checks only forget commands (fuzz_device.c)
#   NVME_FUZZ_ARGS     extra libFuzzer arguments
set -euo pipefail
src=$(cd "$(dirname "$0")/../.." && pwd)
build=${NVME_FUZZ_BUILD:-$src/build-fuzz}
runs=${NVME_FUZZ_RUNS:-80000}
seed=${NVME_FUZZ_SEED:-1}
scratch=${NVME_FUZZ_SCRATCH:-$(mktemp -d /tmp/nvme-fuzz.XXXXXX)}
mkdir -p "$scratch/corpus" "$scratch/artifacts"

if ! command -v clang >/dev/null; then
  echo "run-fuzz.sh: clang not found (apt-get install clang libclang-rt-14-dev)" >&2
  echo "fuzz: executions=0 crashes=0"
  exit 2
fi
CC=clang cmake -S "$src" -B "$build" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DNVME_FUZZ=ON \
  -DNVME_QEMU_TESTS=OFF -DNVME_EXOS_TESTS=OFF >/dev/null
cmake --build "$build" -j 2 --target nvme-fuzz-device >/dev/null

log=$scratch/fuzz.log
set +e
# -rss_limit_mb: ASan's quarantine grows; -timeout: one input taking this
# long is a hang (the fake itself traps long before on simulated time).
ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:quarantine_size_mb=32} \
UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1} \
"$build/tests/fuzz/nvme-fuzz-device" "$scratch/corpus" "$src/tests/fuzz/corpus" \
  -runs="$runs" -seed="$seed" -max_len=8192 -timeout=25 -rss_limit_mb=2560 \
  -artifact_prefix="$scratch/artifacts/" -print_final_stats=1 ${NVME_FUZZ_ARGS:-} >"$log" 2>&1
rc=$?
set -e

execs=$(sed -n 's/^stat::number_of_executed_units: *\([0-9]*\).*/\1/p' "$log" | tail -n1)
if [ -z "$execs" ]; then # crashed before the final stats: the last status line counts
  execs=$(sed -n 's/^#\([0-9]*\).*/\1/p' "$log" | tail -n1)
fi
execs=${execs:-0}
eps=$(sed -n 's/^stat::average_exec_per_sec: *\([0-9]*\).*/\1/p' "$log" | tail -n1)
crashes=$(find "$scratch/artifacts" -type f | wc -l)
if [ "$rc" -ne 0 ] && [ "$crashes" -eq 0 ]; then
  crashes=1 # libFuzzer failed without writing an input (e.g. a crash in init)
fi
if [ "$crashes" -ne 0 ]; then
  grep -E 'BUG:|ERROR: (AddressSanitizer|libFuzzer|LeakSanitizer)|runtime error|SUMMARY|Slowest unit' "$log" | head -n 8 >&2 || true
  find "$scratch/artifacts" -type f -printf 'reproducer: %p\n' >&2
  echo "log: $log (replay: $build/tests/fuzz/nvme-fuzz-device <reproducer>)" >&2
elif [ -n "$eps" ]; then
  echo "(${eps} executions/s; new inputs in $scratch/corpus)" >&2
fi
echo "fuzz: executions=$execs crashes=$crashes"
[ "$crashes" -eq 0 ]
