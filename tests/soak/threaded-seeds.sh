#!/usr/bin/env bash
# threaded-seeds.sh - the randomized workload (workload.c) in its threaded
# mode, by hand: worker threads as CPUs and a chaos thread resetting,
# removing and cutting the link while they run, so interleavings differ
# from run to run (the ctest seeds run serially, deterministic).  Each
# seed runs twice: with more faults, and with resets granting fewer
# queues; every failing run's tail is printed.  Not part of the test
# command: a run is not reproducible.  (Held transfers repeated at every
# simulated 1 us once tripped the 60 s watchdog under ASan; now at most
# once per simulated ms between events: sim_held.c.)
# Usage: tests/soak/threaded-seeds.sh FIRST LAST [SECONDS, default 15] [noretry]
#        (noretry: no retries nor replays, workload.c)
#        (builds nvme-workload with ASan+UBSan into $NVME_WORKLOAD_BUILD,
#        default /tmp/nvme-workload-asan)
set -u
src=$(cd "$(dirname "$0")/../.." && pwd)
out=${NVME_WORKLOAD_BUILD:-/tmp/nvme-workload-asan}
first=${1:?first seed}
last=${2:?last seed}
secs=${3:-15}
mode=${4:-}
san="-fsanitize=address,undefined -fno-omit-frame-pointer"
cmake -S "$src" -B "$out" -DCMAKE_BUILD_TYPE=Debug -DNVME_QEMU_TESTS=OFF -DNVME_EXOS_TESTS=OFF \
      -DCMAKE_C_FLAGS="$san" -DCMAKE_EXE_LINKER_FLAGS="$san" >/dev/null || exit 2
cmake --build "$out" --target nvme-workload -j 2 >/dev/null || exit 2
w=$(find "$out" -name nvme-workload -type f -perm -u+x | head -n 1)
fails=0
for s in $(seq "$first" "$last"); do
  for env in "WORKLOAD_MORE_FAULTS=1 WORKLOAD_GONE=1 WORKLOAD_MORE_CFG=1 WORKLOAD_LINK=1" \
             "WORKLOAD_GONE=1 WORKLOAD_MORE_CFG=1 WORKLOAD_LINK=1 WORKLOAD_GRANT=1"; do
    res=$(env $env timeout $((secs + 120)) "$w" "$s" "$secs" 2 $mode 2>&1)
    rc=$?
    if [ $rc -ne 0 ] || ! grep -q "workload seed $s: ok" <<<"$res"; then
      fails=$((fails + 1))
      echo "seed $s [$env]: FAIL (rc $rc)"
      tail -n 15 <<<"$res"
    else
      echo "seed $s [$env]: ok"
    fi
  done
done
echo "threaded-seeds: $(( (last - first + 1) * 2 )) runs, $fails failed"
[ $fails -eq 0 ]
