#!/usr/bin/env bash
# ceiling.sh - the harness against the device model's ceiling on QEMU's
# NVMe controller, one queue (a benchmark, never a test; CI does not run it).
#
#   bench/ceiling.sh [ROUNDS=15] [IOS=40000]
#
# Each round boots, per interrupt mode (msix, then poll), four kernels on
# the QEMU command line of bench/compare-linux.sh: the raw loop without the
# core (`rawbench=IOS`, tests/qemu/kernel/rawbench.c), the harness `bench`
# with its per-command stamps, and the harness with `nolat` (no stamps, as
# little bookkeeping as the raw loop), and that with `batch` (refills through
# nvme_submit_rw_batch).  4 KiB random reads at QD1, QD32 and
# QD128.  Prints a markdown table: min/median/max IOPS per side and the
# harness's median as a share of the raw loop's.  Rounds alternate, so a
# noisy host moves both sides.
# A boot that fails, times out or prints other than its three result lines
# stops the run (exit 1, the boot's last lines on stderr): no table is
# printed from missing rounds.
set -euo pipefail
die() { echo "ceiling.sh: $*" >&2; exit 1; }
src=$(cd "$(dirname "$0")/.." && pwd)
rounds=${1:-15}
ios=${2:-40000}
for v in "$rounds" "$ios"; do
  case $v in '' | *[!0-9]* | 0*) die "ROUNDS and IOS must be positive whole numbers, not '$v'" ;; esac
done
# rawbench's QD1 runs IOS/4 reads: none below 4 ("not run", no figure)
[ "$ios" -ge 4 ] || die "IOS must be 4 or more (rawbench's QD1 runs IOS/4 reads), not $ios"
command -v qemu-system-x86_64 >/dev/null || die "qemu-system-x86_64 not found (apt-get install qemu-system-x86)"
hbuild=${NVME_QEMU_BUILD:-/tmp/nvme-qemu-build}/x86_64
make -s -C "$src/tests/qemu" ARCH=x86_64 O="$hbuild" >&2
harness="$hbuild/nvme-harness.elf"
common=(qemu-system-x86_64 -machine pc -accel tcg -m 512M -smp 1 -nodefaults -display none
  -no-reboot -monitor none -serial stdio -device isa-debug-exit,iobase=0xf4,iosize=0x04
  -blockdev "driver=null-co,node-name=nsdrv0,size=1073741824,read-zeroes=on"
  -device nvme,id=nvme0,serial=deadbeef -device nvme-ns,drive=nsdrv0,bus=nvme0,nsid=1)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
results=$tmp/results
log=$tmp/boot.log
boot() { # append sed-script: appends the boot's 3 result lines (QD1, QD32, QD128) to $results
  local rc=0 lines
  timeout 300 "${common[@]}" -kernel "$harness" -append "$1" </dev/null >"$log" 2>&1 || rc=$?
  lines=$(sed -n "$2" "$log")
  # isa-debug-exit: QEMU's status is 1 for the harness's pass (run.sh)
  if [ "$rc" -ne 1 ] || ! grep -q '^harness: RESULT PASS' "$log" ||
     [ "$(printf '%s' "$lines" | grep -c .)" -ne 3 ]; then
    echo "ceiling.sh: boot '$1' failed (QEMU exit $rc$([ "$rc" -eq 124 ] && echo ", timed out after 300 s")), its last lines:" >&2
    tail -n 20 "$log" >&2
    exit 1
  fi
  printf '%s\n' "$lines" >>"$results"
}
modes="qd1-async qd32-async qd128-async"
for r in $(seq 1 "$rounds"); do
  echo "ceiling: round $r/$rounds" >&2
  for irq in msix poll; do
    boot "irq=$irq; rawbench=$ios" \
      "s/^rawbench: mode=qd\([0-9]*\)-raw .* iops=\([0-9]*\)$/raw-$irq qd\1 \2/p"
    boot "irq=$irq; fini=0; bench 1 $ios $modes" \
      "s/^bench: mode=qd\([0-9]*\)-async .* iops=\([0-9]*\) .*/bench-$irq qd\1 \2/p"
    boot "irq=$irq; fini=0; bench 1 $ios nolat $modes" \
      "s/^bench: mode=qd\([0-9]*\)-async .* iops=\([0-9]*\) .*/nolat-$irq qd\1 \2/p"
    boot "irq=$irq; fini=0; bench 1 $ios nolat batch $modes" \
      "s/^bench: mode=qd\([0-9]*\)-async .* iops=\([0-9]*\) .*/batch-$irq qd\1 \2/p"
  done
done
python3 - "$results" "$rounds" <<'PY'
import collections, statistics, sys
d = collections.defaultdict(list)
for line in open(sys.argv[1]):
    side, qd, iops = line.split()
    d[(side, qd)].append(int(iops))
def mmm(v):
    return "%d / %d / %d" % (min(v), statistics.median(v), max(v)) if v else "n/a"
def share(a, b):
    return "%.0f%%" % (100.0 * statistics.median(a) / statistics.median(b)) if a and b else "n/a"
print("| irq | depth | raw loop IOPS min/med/max | harness bench | share | harness bench nolat | share"
      " | nolat batch | share |")
print("|---|---|---|---|---|---|---|---|---|")
for irq in ("msix", "poll"):
    for qd in ("qd1", "qd32", "qd128"):
        raw, b, n = d[("raw-" + irq, qd)], d[("bench-" + irq, qd)], d[("nolat-" + irq, qd)]
        bt = d[("batch-" + irq, qd)]
        print("| %s | %s | %s | %s | %s | %s | %s | %s | %s |" % (
            irq, qd.upper(), mmm(raw), mmm(b), share(b, raw), mmm(n), share(n, raw), mmm(bt), share(bt, raw)))
print("(%s rounds alternating)" % sys.argv[2])
PY
