#!/usr/bin/env bash
# harness-smp.sh - the harness's `bench` with 1, 2 and 4 vCPUs (a queue
# pair per CPU, every CPU running the workload at once), MSI-X and polled,
# on the device options of bench/compare-linux.sh (null-co namespace).
# A benchmark, never a test.  Prints a markdown table of IOPS min/median/max
# and median p50/p99 latency per workload, CPU count and interrupt mode.
#   bench/harness-smp.sh [ROUNDS=3] [IOS per CPU and mode=20000] [CPU counts="1 2 4"]
# A boot that fails, times out or prints no result line stops the run
# (exit 1, the boot's last lines on stderr): no table from missing boots.
set -euo pipefail
die() { echo "harness-smp.sh: $*" >&2; exit 1; }
src=$(cd "$(dirname "$0")/.." && pwd)
rounds=${1:-3}
ios=${2:-20000}
cpus_list=${3:-1 2 4}
for v in "$rounds" "$ios" $cpus_list; do
  case $v in '' | *[!0-9]* | 0*) die "ROUNDS, IOS and the CPU counts must be positive whole numbers, not '$v'" ;; esac
done
[ -n "$cpus_list" ] || die "no CPU count given"
command -v qemu-system-x86_64 >/dev/null || die "qemu-system-x86_64 not found (apt-get install qemu-system-x86)"
hbuild=${NVME_QEMU_BUILD:-/tmp/nvme-qemu-build}/x86_64
make -s -C "$src/tests/qemu" ARCH=x86_64 O="$hbuild" >&2
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
out=$tmp/results
log=$tmp/boot.log
: >"$out"
for r in $(seq 1 "$rounds"); do
  for n in $cpus_list; do
    for irq in msix poll; do
      echo "harness-smp: round $r, $n CPU(s), $irq" >&2
      rc=0
      timeout 600 qemu-system-x86_64 -machine pc -accel tcg -m 512M -smp "$n" -nodefaults \
        -display none -no-reboot -monitor none -serial stdio \
        -device isa-debug-exit,iobase=0xf4,iosize=0x04 \
        -blockdev driver=null-co,node-name=nsdrv0,size=1073741824,read-zeroes=on \
        -device nvme,id=nvme0,serial=deadbeef -device nvme-ns,drive=nsdrv0,bus=nvme0,nsid=1 \
        -kernel "$hbuild/nvme-harness.elf" -append "irq=$irq; cpus=$n; fini=0; bench 1 $ios" \
        </dev/null >"$log" 2>&1 || rc=$?
      lines=$(sed -n "s/^bench: mode=\([a-z0-9-]*\) cpus=\([0-9]*\) queues=\([0-9]*\) irq=\([a-z]*\) .* iops=\([0-9]*\) p50_ns=\([0-9]*\) p99_ns=\([0-9]*\) .*/\1 \2 \3 \4 \5 \6 \7/p" "$log")
      # isa-debug-exit: QEMU's status is 1 for the harness's pass (run.sh)
      if [ "$rc" -ne 1 ] || ! grep -q '^harness: RESULT PASS' "$log" || [ -z "$lines" ]; then
        echo "harness-smp.sh: boot with $n CPU(s), irq=$irq failed (QEMU exit $rc$([ "$rc" -eq 124 ] && echo ", timed out after 600 s")), its last lines:" >&2
        tail -n 20 "$log" >&2
        exit 1
      fi
      printf '%s\n' "$lines" >>"$out"
    done
  done
done
python3 - "$out" "$rounds" "$ios" <<'PY'
import statistics, sys
rows = [l.split() for l in open(sys.argv[1]) if l.strip()]
modes = ["qd1-blocking", "qd1-async", "qd32-async", "qd128-async", "seq128k-qd8", "randwrite-qd32"]
keys = sorted({(int(r[1]), int(r[2]), r[3]) for r in rows}, key=lambda k: (k[0], k[2]))
print("| workload | CPUs/queues | irq | IOPS min / median / max | p50 / p99 us (medians) |")
print("|---|---|---|---|---|")
for m in modes:
    for c, q, irq in keys:
        sel = [r for r in rows if r[0] == m and int(r[1]) == c and r[3] == irq]
        if not sel:
            continue
        iops = [int(r[4]) for r in sel]
        p50 = statistics.median(int(r[5]) for r in sel) / 1000
        p99 = statistics.median(int(r[6]) for r in sel) / 1000
        print("| %s | %d/%d | %s | %d / %d / %d | %.0f / %.0f |" % (
            m, c, q, irq, min(iops), statistics.median(iops), max(iops), p50, p99))
print("(%s rounds, %s commands per CPU and mode)" % (sys.argv[2], sys.argv[3]))
PY
