#!/usr/bin/env bash
# qemu-qd1.sh - blocking against asynchronous I/O on QEMU's NVMe controller
# (TCG), through the bare-metal harness's `bench` command: 4 KiB random
# reads at QD1 blocking (nvme_read), QD1 asynchronous (nvme_submit_rw +
# nvme_qpair_poll) and QD32 batched.  Rounds alternate on one machine; the
# table gives min/median/max IOPS and the blocking/async ratio of the
# medians (a shared, noisy machine: compare ratios, not absolute figures).
# Usage: bench/qemu-qd1.sh [rounds, default 5] [ios per mode, default 20000]
#        [irq mode msix|intx|poll, default msix] [arch x86_64|i386]
set -euo pipefail
src=$(cd "$(dirname "$0")/.." && pwd)
rounds=${1:-5}
ios=${2:-20000}
irq=${3:-msix}
arch=${4:-x86_64}
build=${NVME_QEMU_BUILD:-/tmp/nvme-qemu-build}/$arch
make -s -C "$src/tests/qemu" ARCH="$arch" O="$build" >/dev/null
declare -A v
for r in $(seq 1 "$rounds"); do
  out=$("$src/tests/qemu/run.sh" --arch "$arch" --kernel "$build/nvme-harness.elf" --irq "$irq" \
        "bench 1 $ios")
  while read -r mode iops; do
    v[$mode]="${v[$mode]:-} $iops"
  done < <(sed -n 's/^bench: mode=\([a-z0-9-]*\) .* iops=\([0-9]*\) .*/\1 \2/p' <<<"$out")
done
stats() { tr ' ' '\n' <<<"$1" | sed '/^$/d' | sort -n | awk '{a[NR]=$1} END {print a[1], a[int((NR+1)/2)], a[NR]}'; }
echo "| mode | min IOPS | median IOPS | max IOPS |"
echo "|---|---|---|---|"
for m in qd1-blocking qd1-async qd32-async; do
  read -r lo med hi < <(stats "${v[$m]}")
  declare "med_${m//-/_}=$med"
  echo "| $m | $lo | $med | $hi |"
done
awk -v b="$med_qd1_blocking" -v a="$med_qd1_async" \
  'BEGIN { printf "blocking/async QD1 IOPS ratio (medians): %.3f\n", b / a }'
echo "($rounds rounds of $ios reads per mode, irq=$irq, $arch, $(date -u +%F), $(nproc) CPUs)"
