#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
#
# run.sh - boot the nvme-core harness kernel under QEMU against an emulated
# NVMe controller of your choosing and run nvmectl commands on it.
#
#   tests/qemu/run.sh "info; list; read -n 1 -s 0"
#   tests/qemu/run.sh --arch i386 --irq intx \
#       --ns path=/tmp/a.img,size=64M --ns path=/tmp/b.img,size=16M,nsid=4,lbs=4096 \
#       --ctrl mdts=2 "list; verify -n 4 -s 0 -c 64"
#
# Options:
#   -a, --arch x86_64|i386   harness build to boot (default x86_64)
#   -k, --kernel FILE        harness image (default: built with make into
#                            $NVME_QEMU_BUILD/<arch>, default /tmp/nvme-qemu-build)
#   --ns SPEC                add a namespace; SPEC is comma separated:
#                              path=FILE   backing image (required; created
#                                          with size= when missing)
#                              size=SIZE   e.g. 64M (truncate syntax)
#                              nsid=N      default: next free number
#                              lbs=BYTES   logical (and physical) block size
#                              any other key=value goes to -device nvme-ns
#                            with no --ns, one 64 MiB scratch namespace is used
#   --serial S               controller serial (default deadbeef)
#   --ctrl PROPS             more -device nvme properties, e.g. mdts=2
#   --irq msix|intx|poll     harness interrupt mode (default msix)
#   --opt KEY=VALUE          other harness options (ioq=, qdepth=, trace=, ...)
#   --qemu ARG               one extra QEMU argument (repeatable); everything
#                            after "--" is also passed to QEMU
#   --qemu-bin PROG          QEMU binary (default qemu-system-x86_64, or
#                            qemu-system-i386 for --arch i386)
#   --log FILE               also write the serial output to FILE
#   --timeout SEC            kill QEMU after SEC seconds (default 120)
#   --dry-run                print the QEMU command line and exit
#   -h, --help
# The last non-option argument is the command list, ';' separated (see
# tests/qemu/kernel/main.c for the harness's own commands and options).
#
# Exit status: 0 every command passed, 1 a command failed (the kernel said
# RESULT FAIL), 2 anything else (build, QEMU missing, crash, timeout).
set -u

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
arch=x86_64
kernel=
serial=deadbeef
ctrl_props=
irq=
opts=()
qemu_extra=()
qemu_bin=
log=
timeout_s=120
dry=0
ns_specs=()
cmds=

usage() { sed -n '4,40p' "$0" | sed 's/^# \{0,1\}//'; }
die() { echo "run.sh: $*" >&2; exit 2; }

while [ $# -gt 0 ]; do
  case "$1" in
    -a|--arch) arch="$2"; shift 2 ;;
    -k|--kernel) kernel="$2"; shift 2 ;;
    --ns) ns_specs+=("$2"); shift 2 ;;
    --serial) serial="$2"; shift 2 ;;
    --ctrl) ctrl_props="$2"; shift 2 ;;
    --irq) irq="$2"; shift 2 ;;
    --opt) opts+=("$2"); shift 2 ;;
    --qemu) qemu_extra+=("$2"); shift 2 ;;
    --qemu-bin) qemu_bin="$2"; shift 2 ;;
    --log) log="$2"; shift 2 ;;
    --timeout) timeout_s="$2"; shift 2 ;;
    --dry-run) dry=1; shift ;;
    -h|--help) usage; exit 0 ;;
    --) shift; qemu_extra+=("$@"); break ;;
    -*) die "unknown option $1 (see --help)" ;;
    *) if [ -n "$cmds" ]; then cmds="$cmds; $1"; else cmds="$1"; fi; shift ;;
  esac
done

case "$arch" in
  x86_64|x86-64|amd64) arch=x86_64 ;;
  i386|i686|x86-32|x86_32) arch=i386 ;;
  *) die "unknown arch $arch" ;;
esac
if [ -z "$qemu_bin" ]; then
  if [ "$arch" = i386 ] && command -v qemu-system-i386 >/dev/null 2>&1; then
    qemu_bin=qemu-system-i386
  else
    qemu_bin=qemu-system-x86_64
  fi
fi
command -v "$qemu_bin" >/dev/null 2>&1 || die "$qemu_bin not found (apt-get install qemu-system-x86)"

if [ -z "$kernel" ]; then
  out="${NVME_QEMU_BUILD:-/tmp/nvme-qemu-build}/$arch"
  make -s -C "$here" ARCH="$arch" O="$out" >&2 || die "building the harness failed"
  kernel="$out/nvme-harness.elf"
fi
[ -f "$kernel" ] || die "no kernel image $kernel"

tmpdir="$(mktemp -d "${TMPDIR:-/tmp}/nvme-run.XXXXXX")"
qemu_pid=
cleanup() {
  [ -n "$qemu_pid" ] && kill "$qemu_pid" 2>/dev/null
  rm -rf "$tmpdir"
}
trap cleanup EXIT
trap 'exit 2' INT TERM

[ ${#ns_specs[@]} -eq 0 ] && ns_specs=("path=$tmpdir/scratch.img,size=64M")

dev_args=(-device "nvme,id=nvme0,serial=$serial${ctrl_props:+,$ctrl_props}")
next_nsid=1
i=0
for spec in "${ns_specs[@]}"; do
  path= size= nsid= lbs= extra=
  IFS=, read -r -a kv <<<"$spec"
  for item in "${kv[@]}"; do
    case "$item" in
      path=*) path="${item#path=}" ;;
      size=*) size="${item#size=}" ;;
      nsid=*) nsid="${item#nsid=}" ;;
      lbs=*) lbs="${item#lbs=}" ;;
      *=*) extra="$extra,$item" ;;
      *) [ -z "$path" ] && path="$item" || die "bad --ns item '$item'" ;;
    esac
  done
  [ -n "$path" ] || die "--ns needs path=FILE"
  if [ ! -e "$path" ]; then
    [ -n "$size" ] || die "$path does not exist and no size= given"
    truncate -s "$size" "$path" || die "cannot create $path"
  fi
  [ -n "$nsid" ] || nsid=$next_nsid
  next_nsid=$((nsid + 1))
  dev_args+=(-drive "file=$path,if=none,id=nsdrv$i,format=raw,cache=writethrough")
  dev_args+=(-device "nvme-ns,drive=nsdrv$i,bus=nvme0,nsid=$nsid${lbs:+,logical_block_size=$lbs,physical_block_size=$lbs}$extra")
  i=$((i + 1))
done

append=
[ -n "$irq" ] && append="irq=$irq"
for o in "${opts[@]+"${opts[@]}"}"; do append="${append:+$append; }$o"; done
[ -n "$cmds" ] && append="${append:+$append; }$cmds"

qemu_cmd=("$qemu_bin" -machine pc -accel tcg -m 256M -nodefaults -display none -no-reboot
  -monitor none -serial stdio
  -device isa-debug-exit,iobase=0xf4,iosize=0x04
  -kernel "$kernel" -append "$append"
  "${dev_args[@]}" "${qemu_extra[@]+"${qemu_extra[@]}"}")

if [ $dry -eq 1 ]; then
  printf '%q ' "${qemu_cmd[@]}"; echo
  exit 0
fi

serial_log="$tmpdir/serial.log"
start=$(date +%s.%N)
# stdin from /dev/null: QEMU then leaves the terminal alone.
timeout --foreground -k 5 "$timeout_s" "${qemu_cmd[@]}" </dev/null | tee "$serial_log"
status=${PIPESTATUS[0]}
end=$(date +%s.%N)
[ -n "$log" ] && cp "$serial_log" "$log"

# isa-debug-exit: status = (code << 1) | 1; code 0 pass, 1 fail, 2 crash
case $status in
  1) result=0; verdict=PASS ;;
  3) result=1; verdict=FAIL ;;
  5) result=2; verdict="CRASH (CPU exception in the harness)" ;;
  124|137) result=2; verdict="TIMEOUT after ${timeout_s}s" ;;
  0) result=2; verdict="QEMU exited without a verdict (triple fault or reset?)" ;;
  *) result=2; verdict="QEMU exit status $status" ;;
esac
printf 'run.sh: %s (%s, %.1fs)\n' "$verdict" "$arch" "$(echo "$end - $start" | bc 2>/dev/null || echo 0)" >&2
exit $result
