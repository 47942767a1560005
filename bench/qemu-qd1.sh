#!/usr/bin/env bash
# qemu-qd1.sh - blocking against asynchronous I/O on QEMU's NVMe controller
# (TCG), through the bare-metal harness's `bench` command: 4 KiB random
# reads at QD1 blocking (nvme_read), QD1 asynchronous (nvme_submit_rw,
# completed by the interrupt handler; by nvme_qpair_poll with irq=poll) and
# QD32 batched.  Rounds alternate on one machine; the
# table gives min/median/max IOPS and the blocking/async ratio of the
# medians (a shared, noisy machine: compare ratios, not absolute figures).
# With interrupts on x86 the blocking call waits in the harness OSAL's
# wait() (spin, then sti;hlt) until the interrupt handler's wake(); the
# harness options "wait=0" (poll instead) and "wait-spin=US" compare.
# Usage: bench/qemu-qd1.sh [rounds, default 5] [ios per mode, default 20000]
#        [irq mode msix|intx|poll, default msix] [arch x86_64|i386]
#        [harness options, ';' separated, e.g. "wait=0" or "wait-spin=0"]
# A round that fails (run.sh's verdict) or lacks a mode's figure stops the
# run with exit 1 before any table is printed.
set -euo pipefail
die() { echo "qemu-qd1.sh: $*" >&2; exit 1; }
src=$(cd "$(dirname "$0")/.." && pwd)
rounds=${1:-5}
ios=${2:-20000}
irq=${3:-msix}
arch=${4:-x86_64}
opts=${5:-}
for a in "$rounds" "$ios"; do
  case $a in '' | *[!0-9]* | 0*) die "rounds and ios must be positive whole numbers, not '$a'" ;; esac
done
build=${NVME_QEMU_BUILD:-/tmp/nvme-qemu-build}/$arch
make -s -C "$src/tests/qemu" ARCH="$arch" O="$build" >/dev/null || die "building the $arch harness failed"
# Then, in the same boot, 4 chunks of ios/4 alternating qd1-blocking and
# qd1-async: each chunk's ratio compares two runs a second apart, so the
# load of a shared machine (which moves the absolute figures by 2x) mostly
# cancels; the median of these paired ratios is the steadier figure.
chunk=$(( ios / 4 > 0 ? ios / 4 : 1 ))
pairs=""
for c in 1 2 3 4; do pairs="$pairs; bench 1 $chunk qd1-blocking qd1-async"; done
declare -A v
ratios=""
backs=""
for r in $(seq 1 "$rounds"); do
  out=$("$src/tests/qemu/run.sh" --arch "$arch" --kernel "$build/nvme-harness.elf" --irq "$irq" \
        "${opts:+$opts; }bench 1 $ios$pairs") || die "round $r: run.sh failed (exit $?; its verdict above)"
  first=$(awk '/^bench: mode=/ && n++ < 6' <<<"$out")
  for m in qd1-blocking qd1-async qd32-async; do
    grep -q "^bench: mode=$m .* iops=[0-9]" <<<"$first" || die "round $r: no iops for $m in the harness's output"
  done
  while read -r mode iops; do
    v[$mode]="${v[$mode]:-} $iops"
  done < <(sed -n 's/^bench: mode=\([a-z0-9-]*\) .* iops=\([0-9]*\) .*/\1 \2/p' <<<"$first")
  while read -r mode back; do
    backs="$backs $mode=$back"
  done < <(sed -n 's/^bench: mode=\(qd1-[a-z]*\) .* back_p50_ns=\([0-9]*\).*/\1 \2/p' <<<"$first")
  ratios="$ratios $(sed -n '/^bench: mode=/p' <<<"$out" | tail -n 8 |
    sed -n 's/^bench: mode=\(qd1-[a-z]*\) .* iops=\([0-9]*\) .*/\1 \2/p' |
    awk '$1 == "qd1-blocking" { b = $2 } $1 == "qd1-async" && b { printf "%.4f ", b / $2; b = 0 }')"
done
# min, median (of an even count: the mean of the middle two), max
stats() { tr ' ' '\n' <<<"$1" | sed '/^$/d' | sort -n |
  awk '{a[NR]=$1} END {if (!NR) {print ""; exit} printf "%s %.10g %s\n", a[1], NR % 2 ? a[(NR+1)/2] : (a[NR/2] + a[NR/2+1]) / 2, a[NR]}'; }
echo "| mode | min IOPS | median IOPS | max IOPS |"
echo "|---|---|---|---|"
for m in qd1-blocking qd1-async qd32-async; do
  read -r lo med hi < <(stats "${v[$m]}")
  declare "med_${m//-/_}=$med"
  echo "| $m | $lo | $med | $hi |"
done
awk -v b="$med_qd1_blocking" -v a="$med_qd1_async" \
  'BEGIN { printf "blocking/async QD1 IOPS ratio (medians): %.3f\n", b / a }'
read -r plo pmed phi < <(stats "$ratios")
printf "paired blocking/async QD1 IOPS ratio (median of %s chunk pairs of %s reads): %.3f (min %.3f, max %.3f)\n" "$(wc -w <<<"$ratios")" "$chunk" "$pmed" "$plo" "$phi"
if [ -n "$backs" ]; then
  for m in qd1-blocking qd1-async; do
    read -r _ bmed _ < <(stats "$(tr ' ' '\n' <<<"$backs" | sed -n "s/^$m=//p" | tr '\n' ' ')")
    echo "$m: completion handled -> caller runs again, p50 (median over rounds): $bmed ns"
  done
fi
echo "($rounds rounds of $ios reads per mode, irq=$irq, $arch${opts:+, $opts}, $(date -u +%F), $(nproc) CPUs)"
