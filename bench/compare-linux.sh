#!/usr/bin/env bash
# compare-linux.sh - nvme-core's bare-metal harness against Linux + fio on
# exactly the same QEMU NVMe device, rounds alternating (a benchmark, never
# a test; CI does not run it).
#
#   bench/compare-linux.sh [ROUNDS=3] [FIO_SECONDS=3] [HARNESS_IOS=20000]
#   env: SMP=1 (vCPUs of both guests; the harness runs cpus=SMP, one queue
#        per CPU, fio numjobs=SMP), BACKEND=null|tmpfs (default null),
#        NVME_BENCH_WORK=/tmp/nvme-compare-linux (kernel and initramfs cache),
#        KEEP_LOGS=1 (keep the serial logs)
#
# Both guests get the same QEMU command line but for -kernel/-initrd/-append:
#   qemu-system-x86_64 -machine pc -accel tcg -m 512M -smp $SMP -nodefaults
#     -display none -no-reboot -monitor none -serial stdio
#     -device isa-debug-exit,iobase=0xf4,iosize=0x04
#     -blockdev driver=null-co,node-name=nsdrv0,size=1G,read-zeroes=on
#     -device nvme,id=nvme0,serial=deadbeef
#     -device nvme-ns,drive=nsdrv0,bus=nvme0,nsid=1
# (BACKEND=tmpfs: a raw 1 GiB file in /dev/shm, cache.direct=off (older
# kernels' tmpfs refuses O_DIRECT), aio=threads instead of null-co.)
#
# Harness: the `bench` command (tests/qemu/kernel/bench.c) with irq=msix,
# then once more with irq=poll for the polled rows.  The device model's
# ceiling: the harness's `rawbench=IOS` option (rawbench.c), the same
# reads at QD1/32/128 driven by a minimal loop without the core, MSI-X and
# polled; the table gives the harness's share of it per depth (SMP=1 only:
# the loop drives one queue from one CPU, the harness SMP queues at once).
# Linux: Debian's linux-image-amd64 kernel (the package's files, unpacked
# in the cache: the host's /boot is not touched and nothing is made to
# boot it) and a busybox-static initramfs with fio and its libraries
# (copied in through ldd) and the nvme modules; /init runs the fio jobs
# and powers off.  fio job per harness mode, --direct=1 on /dev/nvme0n1,
# after a 0.5 s ramp (--ramp_time=500ms: fio 3.33 reads "0.5" as 0):
#   qd1-blocking   ioengine=psync  iodepth=1   randread 4k
#   qd1-async      ioengine=io_uring iodepth=1   randread 4k
#   qd32-async     ioengine=io_uring iodepth=32  randread 4k
#   qd128-async    ioengine=io_uring iodepth=128 randread 4k
#   seq128k-qd8    ioengine=io_uring iodepth=8   read 128k
#   randwrite-qd32 ioengine=io_uring iodepth=32  randwrite 4k
# Latency: the harness stamps each command at submission and at its
# completion callback (TSC); fio's lat_ns (submission to completion,
# lat_percentiles=1), so both include submission.
#
# Packages: fio, busybox-static and cpio are installed with apt-get when
# missing (fio pulls ~44 MB of libraries: too much for CI's
# tools/install-deps.sh), and the kernel package (~70 MB) is downloaded
# with `apt-get download` into the cache, never installed.
#
# A boot that fails, times out or gives fewer results than it should stops
# the run (exit 1, its serial log kept): no table is printed from missing
# rounds.  So does a Linux round whose fio job reports an error or whose
# nvme driver timed out an I/O (the harness fails a round whose completions
# stall 10 s; a 30 s Linux timeout left figures such as 1 IOPS at QD32).
# The arguments are checked before anything is installed.
set -euo pipefail
src=$(cd "$(dirname "$0")/.." && pwd)
rounds=${1:-3}
fio_s=${2:-3}
hios=${3:-20000}
smp=${SMP:-1}
backend=${BACKEND:-null}
work=${NVME_BENCH_WORK:-/tmp/nvme-compare-linux}
say() { echo "compare-linux: $*" >&2; }
die() { say "$*"; exit 1; }
for v in "$rounds" "$fio_s" "$hios" "$smp"; do
  case $v in '' | *[!0-9]* | 0*) die "ROUNDS, FIO_SECONDS, HARNESS_IOS and SMP must be positive whole numbers, not '$v'" ;; esac
done
# rawbench's QD1 runs HARNESS_IOS/4 reads: none below 4 ("not run", no figure)
[ "$hios" -ge 4 ] || die "HARNESS_IOS must be 4 or more (rawbench's QD1 runs HARNESS_IOS/4 reads), not $hios"
case $backend in null | tmpfs) ;; *) die "BACKEND must be null or tmpfs, not '$backend'" ;; esac
command -v qemu-system-x86_64 >/dev/null || die "qemu-system-x86_64 not found (apt-get install qemu-system-x86)"
mkdir -p "$work"
# Temporary files, removed on any exit: the initramfs tree while it is
# built, the tmpfs backend's image (up to 1 GiB of RAM in /dev/shm).
cleanup=()
trap 'rm -rf "${cleanup[@]+"${cleanup[@]}"}"' EXIT

# --- packages, kernel, initramfs tree (linux-guest.sh) ---------------------------------
# shellcheck source=bench/linux-guest.sh
. "$src/bench/linux-guest.sh"
lg_packages fio:fio -busybox-static:busybox-static cpio:cpio
lg_kernel "$work"
kdir=$lg_kdir kver=$lg_kver kpkg=$lg_kpkg

# --- initramfs: busybox, fio + libraries, nvme modules, /init ---------------------------
# The tree is put together every run (copies, a second or so); the archive
# is cached under a hash of the whole tree (lg_tree_hash: /init with its fio
# seconds and ramp, busybox, fio and its libraries, the modules), so a new
# fio, busybox, library, kernel package or /init never reuses a stale one.
r=$(mktemp -d)
cleanup+=("$r")
lg_binary "$r" "$(command -v fio)"
# nvme and what it depends on, plus the generic CRC providers
# crc-t10dif/crc64-rocksoft look up
lg_root "$r" crct10dif_generic crc64_rocksoft_generic nvme
order=("${lg_modules[@]}")
cat >"$r/init" <<EOF
#!/bin/busybox sh
/bin/busybox --install -s /bin
export PATH=/bin:/usr/bin
mount -t proc proc /proc; mount -t sysfs sysfs /sys; mount -t devtmpfs dev /dev
for m in ${order[*]}; do insmod /mods/\$m.ko 2>/dev/null; done
i=0; while [ ! -b /dev/nvme0n1 ] && [ \$i -lt 100 ]; do sleep 0.1; i=\$((i+1)); done
echo "LINUX: \$(uname -r) nvme0n1 \$(cat /sys/block/nvme0n1/size 2>/dev/null) sectors, queues \$(ls /sys/block/nvme0n1/mq 2>/dev/null | wc -l), cpus \$(grep -c ^processor /proc/cpuinfo)"
nj=\$(grep -c ^processor /proc/cpuinfo)
job() { # name engine rw bs depth
  echo "FIO-BEGIN \$1"
  fio --name=\$1 --filename=/dev/nvme0n1 --direct=1 --ioengine=\$2 --rw=\$3 --bs=\$4 \\
      --iodepth=\$5 --numjobs=\$nj --group_reporting --runtime=$fio_s --ramp_time=500ms --time_based \\
      --lat_percentiles=1 --randrepeat=0 --norandommap --output-format=json
  echo "FIO-END \$1"
}
job qd1-blocking psync randread 4k 1
job qd1-async io_uring randread 4k 1
job qd32-async io_uring randread 4k 32
job qd128-async io_uring randread 4k 128
job seq128k-qd8 io_uring read 128k 8
job randwrite-qd32 io_uring randwrite 4k 32
echo "LINUX: done"
poweroff -f
EOF
chmod +x "$r/init"
initrd="$work/initramfs-$kver-$(lg_tree_hash "$r").cpio.gz"
if [ ! -f "$initrd" ]; then
  say "building the initramfs $initrd"
  cleanup+=("$initrd.tmp")
  lg_cpio "$r" "$initrd"
fi
rm -rf "$r"

# --- the harness -------------------------------------------------------------------------
hbuild=${NVME_QEMU_BUILD:-/tmp/nvme-qemu-build}/x86_64
make -s -C "$src/tests/qemu" ARCH=x86_64 O="$hbuild" >&2
harness="$hbuild/nvme-harness.elf"

# --- one QEMU command line for both -------------------------------------------------------
if [ "$backend" = tmpfs ]; then
  img=/dev/shm/nvme-compare-linux.img
  cleanup+=("$img")
  truncate -s 1G "$img"
  drive=(-blockdev "driver=file,node-name=nsfile,filename=$img,cache.direct=off,aio=threads"
         -blockdev "driver=raw,node-name=nsdrv0,file=nsfile")
else
  drive=(-blockdev "driver=null-co,node-name=nsdrv0,size=1073741824,read-zeroes=on")
fi
common=(qemu-system-x86_64 -machine pc -accel tcg -m 512M -smp "$smp" -nodefaults -display none
  -no-reboot -monitor none -serial stdio -device isa-debug-exit,iobase=0xf4,iosize=0x04
  "${drive[@]}" -device nvme,id=nvme0,serial=deadbeef -device nvme-ns,drive=nsdrv0,bus=nvme0,nsid=1)
say "device options: ${common[*]:1}"

logs=$(mktemp -d "${TMPDIR:-/tmp}/nvme-compare.XXXXXX")
results="$logs/results.txt"   # lines: side mode iops p50_ns p99_ns
: >"$results"
# failed WHAT LOG RC: stop the run, keeping every log
failed() {
  say "$1 failed (QEMU exit $3$([ "$3" -eq 124 ] && echo ", timed out")), its last lines:"
  tail -n 20 "$2" >&2
  say "logs kept in $logs"
  exit 1
}
# keep WANT LINES: append the boot's result LINES if there are WANT of them
keep() {
  [ "$(printf "%s" "$2" | grep -c .)" -eq "$1" ] || return 1
  printf "%s\n" "$2" >>"$results"
}
# isa-debug-exit: QEMU's status is 1 for the harness's pass (as run.sh)
run_harness() { # round irq: the six workloads of bench.c
  local log="$logs/harness-$1-$2.log" rc=0 lines
  timeout 600 "${common[@]}" -kernel "$harness" \
    -append "irq=$2; cpus=$smp; fini=0; bench 1 $hios" </dev/null >"$log" 2>&1 || rc=$?
  lines=$(sed -n "s/^bench: mode=\([a-z0-9-]*\) .* iops=\([0-9]*\) p50_ns=\([0-9]*\) p99_ns=\([0-9]*\) .*/harness-$2 \1 \2 \3 \4/p" "$log")
  { [ "$rc" -eq 1 ] && grep -q "^harness: RESULT PASS" "$log" && keep 6 "$lines"; } ||
    failed "harness round $1 ($2)" "$log" "$rc"
}
run_raw() { # round irq: the device's ceiling without the core (rawbench.c), QD1/32/128
  local log="$logs/raw-$1-$2.log" rc=0 lines
  timeout 600 "${common[@]}" -kernel "$harness" -append "irq=$2; rawbench=$hios" </dev/null >"$log" 2>&1 || rc=$?
  lines=$(sed -n "s/^rawbench: mode=qd\([0-9]*\)-raw .* iops=\([0-9]*\)$/raw-$2 qd\1-async \2 0 0/p" "$log")
  { [ "$rc" -eq 1 ] && grep -q "^harness: RESULT PASS" "$log" && keep 3 "$lines"; } ||
    failed "raw round $1 ($2)" "$log" "$rc"
}
run_linux() { # round: the six fio jobs of /init, each with its JSON
  local log="$logs/linux-$1.log" rc=0 lines
  timeout 900 "${common[@]}" -kernel "$kdir/vmlinuz" -initrd "$initrd" \
    -append "console=ttyS0 loglevel=5 panic=-1" </dev/null >"$log" 2>&1 || rc=$?
  lines=$(python3 - "$log" <<'PY'
import json, re, sys
log = open(sys.argv[1], errors="replace").read().replace("\r", "")
for m in re.finditer(r"FIO-BEGIN (\S+)\n(.*?)FIO-END \1", log, re.S):
    body = m.group(2)
    try:
        j = json.loads(body[body.index("{"):body.rindex("}") + 1])
    except ValueError:
        continue
    job = j["jobs"][0]
    if job.get("error"):  # fio's errno: the job's I/O failed
        continue
    d = job["write"] if job["write"]["io_bytes"] > job["read"]["io_bytes"] else job["read"]
    pct = d["lat_ns"].get("percentile", {})
    print("linux %s %d %d %d" % (m.group(1), round(d["iops"]), pct.get("50.000000", 0), pct.get("99.000000", 0)))
PY
) || true
  { grep -q "^LINUX: done" "$log" && ! grep -q "nvme nvme[0-9]*: I/O.* timeout" "$log" &&
    keep 6 "$lines"; } || failed "linux round $1" "$log" "$rc"
}

t0=$(date +%s)
for r in $(seq 1 "$rounds"); do
  say "round $r/$rounds: harness (msix, poll)$([ "$smp" -ne 1 ] || echo ", raw loop (msix, poll)")"
  run_harness "$r" msix
  run_harness "$r" poll
  if [ "$smp" -eq 1 ]; then
    run_raw "$r" msix
    run_raw "$r" poll
  fi
  say "round $r/$rounds: linux"
  run_linux "$r"
done
t1=$(date +%s)

python3 - "$results" "$rounds" "$smp" "$backend" "$kpkg" "$((t1 - t0))" <<'PY'
import statistics, sys
rows = [l.split() for l in open(sys.argv[1]) if l.strip()]
rounds, smp, backend, kpkg, secs = sys.argv[2:7]
modes = ["qd1-blocking", "qd1-async", "qd32-async", "qd128-async", "seq128k-qd8", "randwrite-qd32"]
def vals(side, mode, col):
    return [int(r[col]) for r in rows if r[0] == side and r[1] == mode]
def mmm(v):
    return "%d / %d / %d" % (min(v), statistics.median(v), max(v)) if v else "n/a"
def med(v):
    return statistics.median(v) if v else 0
print("| workload | harness MSI-X IOPS min/med/max | harness polled IOPS min/med/max | Linux+fio IOPS min/med/max | IOPS ratio (MSI-X/Linux, medians) | harness MSI-X p50 / p99 us | Linux p50 / p99 us | p50 latency ratio (harness/Linux) |")
print("|---|---|---|---|---|---|---|---|")
for m in modes:
    hm, hp, lx = vals("harness-msix", m, 2), vals("harness-poll", m, 2), vals("linux", m, 2)
    h50, h99 = med(vals("harness-msix", m, 3)), med(vals("harness-msix", m, 4))
    l50, l99 = med(vals("linux", m, 3)), med(vals("linux", m, 4))
    ratio = "%.2fx" % (med(hm) / med(lx)) if hm and lx and med(lx) else "n/a"
    lat = "%.2fx" % (h50 / l50) if l50 else "n/a"
    print("| %s | %s | %s | %s | %s | %.0f / %.0f | %.0f / %.0f | %s |" % (
        m, mmm(hm), mmm(hp), mmm(lx), ratio, h50 / 1000, h99 / 1000, l50 / 1000, l99 / 1000, lat))
print()
if smp != "1":
    print("(no device-model ceiling: rawbench.c drives one queue from one CPU, the harness one per CPU, SMP=%s)" % smp)
else:
    print("Device-model ceiling: the same reads driven by rawbench.c (no core: its own bring-up, one")
    print("queue pair, a doorbell per pass, nothing per command but the SQE and the CQE), same QEMU line.")
    print()
    print("| depth | raw MSI-X IOPS min/med/max | harness MSI-X / raw (medians) | raw polled IOPS min/med/max | harness polled / raw (medians) |")
    print("|---|---|---|---|---|")
for m in ("qd1-async", "qd32-async", "qd128-async") if smp == "1" else ():
    cells = []
    for irq in ("msix", "poll"):
        raw, h = vals("raw-" + irq, m, 2), vals("harness-" + irq, m, 2)
        cells += [mmm(raw), "%.0f%%" % (100.0 * med(h) / med(raw)) if raw and h and med(raw) else "n/a"]
    print("| %s | %s | %s | %s | %s |" % (m.split("-")[0].upper(), *cells))
print("(%s rounds alternating, SMP=%s, backend %s, Linux %s + fio, %s s in all)" % (
    rounds, smp, backend, kpkg, secs))
PY
if [ "${KEEP_LOGS:-0}" = 1 ]; then say "logs kept in $logs"; else rm -rf "$logs"; fi
