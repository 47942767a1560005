#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# run-fuzz.sh - build the libFuzzer targets nvme-fuzz-device and
# nvme-fuzz-nvmectl with clang and run each for a fixed number of
# executions, starting from the corpus in tests/fuzz/corpus (and
# corpus-nvmectl; read only: new inputs and crash reproducers go to a
# scratch directory, never into the repository).
#
# Prints exactly one summary line:   fuzz: executions=N crashes=C
# (both targets counted together)
# and exits non-zero when libFuzzer found a crash, a leak, a timeout or
# an out-of-memory (the reproducer's path is printed before the summary).
# An input takes about 2 ms; one taking over 60 s (-timeout) is a hang,
# as a device claiming NN = 805,306,369 without an Active Namespace ID
# list once made (one Identify per NSID, now capped).  A slow unit (over
# 10 s, libFuzzer's -report_slow_units) is left in the scratch directory
# but not counted: on a loaded machine it is no failure.
#
# Environment:
#   NVME_FUZZ_RUNS     executions (default 80000: about 100 s on this 2-core machine)
#   NVME_FUZZ_CTL_RUNS executions of nvme-fuzz-nvmectl (default 8000: about 6 s)
#   NVME_FUZZ_BUILD    clang build directory (default build-fuzz/)
#   NVME_FUZZ_SCRATCH  scratch directory (default a new mktemp -d)
#   NVME_FUZZ_SEED     libFuzzer -seed (default 1: the same run every time)
#   NVME_FUZZ_LAX      1: lifecycle checks only forget commands (fuzz_device.c)
#   NVME_FUZZ_ARGS     extra libFuzzer arguments
set -euo pipefail
src=$(cd "$(dirname "$0")/../.." && pwd)
build=${NVME_FUZZ_BUILD:-$src/build-fuzz}
runs=${NVME_FUZZ_RUNS:-80000}
ctl_runs=${NVME_FUZZ_CTL_RUNS:-8000}
seed=${NVME_FUZZ_SEED:-1}
scratch=${NVME_FUZZ_SCRATCH:-$(mktemp -d /tmp/nvme-fuzz.XXXXXX)}
mkdir -p "$scratch/corpus" "$scratch/corpus-nvmectl" "$scratch/artifacts"

if ! command -v clang >/dev/null; then
  echo "run-fuzz.sh: clang not found (apt-get install clang libclang-rt-14-dev)" >&2
  echo "fuzz: executions=0 crashes=0"
  exit 2
fi
CC=clang cmake -S "$src" -B "$build" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DNVME_FUZZ=ON \
  -DNVME_QEMU_TESTS=OFF -DNVME_EXOS_TESTS=OFF >/dev/null
cmake --build "$build" -j 2 --target nvme-fuzz-device nvme-fuzz-nvmectl >/dev/null

log=$scratch/fuzz.log
ctl_log=$scratch/fuzz-nvmectl.log
set +e
# -rss_limit_mb: ASan's quarantine grows; -timeout: one input taking this
# long is a hang (the fake itself traps long before on simulated time).
fuzz() { # target corpus runs log artifact-name-prefix
  ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:quarantine_size_mb=32} \
  UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1} \
  "$build/tests/fuzz/$1" "$scratch/$2" "$src/tests/fuzz/$2" \
    -runs="$3" -seed="$seed" -max_len=8192 -timeout=60 -rss_limit_mb=2560 \
    -artifact_prefix="$scratch/artifacts/$5" -print_final_stats=1 ${NVME_FUZZ_ARGS:-} >"$4" 2>&1
}
fuzz nvme-fuzz-device corpus "$runs" "$log" ""
rc=$?
# nvmectl's commands over the same fake device (fuzz_nvmectl.c)
fuzz nvme-fuzz-nvmectl corpus-nvmectl "$ctl_runs" "$ctl_log" nvmectl-
ctl_rc=$?
set -e

count_execs() { # log
  local n
  n=$(sed -n 's/^stat::number_of_executed_units: *\([0-9]*\).*/\1/p' "$1" | tail -n1)
  if [ -z "$n" ]; then # crashed before the final stats: the last status line counts
    n=$(sed -n 's/^#\([0-9]*\).*/\1/p' "$1" | tail -n1)
  fi
  echo "${n:-0}"
}
execs=$(($(count_execs "$log") + $(count_execs "$ctl_log")))
eps=$(sed -n 's/^stat::average_exec_per_sec: *\([0-9]*\).*/\1/p' "$log" | tail -n1)
# slow-unit-*: an input past -report_slow_units (10 s) on a loaded machine,
# not a failure (a hang is -timeout's timeout-*, and a non-zero exit).
crashes=$(find "$scratch/artifacts" -type f ! -name 'slow-unit-*' ! -name 'nvmectl-slow-unit-*' | wc -l)
if { [ "$rc" -ne 0 ] || [ "$ctl_rc" -ne 0 ]; } && [ "$crashes" -eq 0 ]; then
  crashes=1 # libFuzzer failed without writing an input (e.g. a crash in init)
fi
if [ "$crashes" -ne 0 ]; then
  grep -E 'BUG:|ERROR: (AddressSanitizer|libFuzzer|LeakSanitizer)|runtime error|SUMMARY|Slowest unit' "$log" "$ctl_log" | head -n 8 >&2 || true
  find "$scratch/artifacts" -type f ! -name '*slow-unit-*' -printf 'reproducer: %p\n' >&2
  echo "logs: $log $ctl_log (replay: $build/tests/fuzz/nvme-fuzz-device <reproducer>, nvme-fuzz-nvmectl for nvmectl-*)" >&2
elif [ -n "$eps" ]; then
  echo "(${eps} executions/s; new inputs in $scratch/corpus and $scratch/corpus-nvmectl)" >&2
fi
echo "fuzz: executions=$execs crashes=$crashes"
[ "$crashes" -eq 0 ]
