#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
#
# run.sh - boot the nvme-core harness kernel under QEMU against an emulated
# NVMe controller of your choosing and run nvmectl commands on it.
#
#   tests/qemu/run.sh "info; list; read -n 1 -s 0"
#   tests/qemu/run.sh --arch i386 --irq intx \
#       --ns path=/tmp/a.img,size=64M --ns path=/tmp/b.img,size=16M,nsid=4,lbs=4096 \
#       --ctrl mdts=2 "list; write-verify -n 4 -s 0 -c 64"
#   tests/qemu/run.sh --hotplug --hook unplug='device_del nvme0' "hook unplug; ..."
#
# Options:
#   -a, --arch x86_64|i386|aarch64|riscv64|armv7
#                            harness build to boot (default x86_64); aarch64
#                            boots qemu-system-aarch64 -M virt,gic-version=3,
#                            its=on -cpu cortex-a57 with semihosting for the
#                            exit, riscv64 qemu-system-riscv64 -M virt
#                            -bios none (exit: the SiFive test device;
#                            with --irq msix, the default, aia=aplic-imsic
#                            and -cpu rv64,x-smaia=true,x-ssaia=true),
#                            armv7 qemu-system-arm -M virt,highmem=off
#                            -cpu cortex-a15 (GICv2 + v2m) with semihosting
#   -k, --kernel FILE        harness image (default: built with make into
#                            $NVME_QEMU_BUILD/<arch>, default /tmp/nvme-qemu-build;
#                            nvme-harness.img on aarch64 and armv7, .elf
#                            otherwise)
#   --ns SPEC                add a namespace; SPEC is comma separated:
#                              path=FILE   backing image (required; created
#                                          with size= when missing)
#                              size=SIZE   e.g. 64M (truncate syntax)
#                              nsid=N      default: next free number
#                              lbs=BYTES   logical (and physical) block size
#                              blkdebug=CFG  put a blkdebug node with config
#                                          file CFG (inject-error rules)
#                                          between the raw format and the image
#                              drive.KEY=V goes to -drive, e.g.
#                                          drive.throttling.iops-total=2
#                              any other key=value goes to -device nvme-ns
#                                          (e.g. detached=true with --subsys)
#                            with no --ns, one 64 MiB scratch namespace is used
#   --serial S               controller serial (default deadbeef)
#   --ctrl PROPS             more -device nvme properties, e.g. mdts=2
#   --other-ctrl PROPS       another NVMe controller, ahead of this one in PCI
#                            order, with no namespace; PROPS are its -device
#                            nvme properties (serial= defaults to otherN);
#                            repeatable.  The harness is then told serial=S
#                            (unless --opt gives pci= or serial=), so that
#                            --serial, --ctrl and --ns describe the
#                            controller it drives
#   --subsys NQN             put the controller in an nvme-subsys (needed for
#                            Namespace Attachment and detached=true)
#   --machine pc|q35         QEMU machine on x86 (default pc; virt elsewhere)
#   --smp N                  N vCPUs (aarch64: with N > 1 also
#                            -accel tcg,thread=multi); the harness runs on
#                            CPU 0, the others stay parked unless --opt
#                            cpus=N starts them
#   --pre-device SPEC        a -device put ahead of the controllers, e.g. a
#                            pcie-root-port,id=rp0,bus=pcie.0,chassis=1,slot=1
#                            that --ctrl bus=rp0 (or --other-ctrl) places a
#                            controller behind; repeatable
#   --hotplug                the controller behind a pcie-root-port with
#                            native PCIe hotplug, so that 'device_del nvme0'
#                            works (x86: q35, its ACPI hotplug off; virt)
#   --hook NAME=CMD          when the harness prints "harness: HOOK NAME", run
#                            the monitor command CMD (HMP text, or QMP JSON
#                            when it starts with '{') through the QMP socket,
#                            then answer the harness on its serial input;
#                            repeatable, several CMDs for a NAME run in order
#   --irq msix|intx|poll     harness interrupt mode (default msix)
#   --opt KEY=VALUE          other harness options (ioq=, qdepth=, trace=, ...)
#   --qemu ARG               one extra QEMU argument (repeatable); everything
#                            after "--" is also passed to QEMU
#   --qemu-bin PROG          QEMU binary (default qemu-system-x86_64, or
#                            qemu-system-i386 for --arch i386,
#                            qemu-system-aarch64, qemu-system-riscv64,
#                            qemu-system-arm)
#   --log FILE               also write the serial output to FILE
#   --timeout SEC            kill QEMU after SEC (at least 1) seconds (default 120)
#   --dry-run                print the QEMU command line and exit: builds
#                            nothing, creates no file
#   -h, --help
# The last non-option argument is the command list, ';' separated (see
# tests/qemu/kernel/main.c for the harness's own commands and options).
#
# Verdict: PASS only when the harness itself printed "harness: RESULT PASS"
# and QEMU then ended with the pass code of the exit device (x86:
# isa-debug-exit; aarch64: semihosting SYS_EXIT, armv7 SYS_EXIT_EXTENDED;
# riscv64: SiFive test; the
# harness makes all three give QEMU status 1 pass, 3 fail, 5 crash).  QEMU's stderr is
# kept and shown whenever the verdict is not PASS.
# Exit status: 0 PASS, 1 the harness said RESULT FAIL, 2 anything else
# (bad option, build, QEMU missing or failing to start, crash, timeout, no
# RESULT line).
set -u

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
arch=x86_64
kernel=
serial=deadbeef
ctrl_props=
subsys=
machine=
smp=
hotplug=0
irq=
opts=()
other_ctrls=()
pre_devs=()
hooks=()
qemu_extra=()
qemu_bin=
log=
timeout_s=120
dry=0
ns_specs=()
cmds=

usage() { sed -n '4,/^set -u$/p' "$0" | sed '$d' | sed 's/^# \{0,1\}//'; }
die() { echo "run.sh: $*" >&2; exit 2; }
# Options taking a value: refuse a missing one instead of looping or
# taking the command list as the value.
val() { [ $# -ge 2 ] && [ -n "$2" ] || die "option $1 needs a value (see --help)"; }

while [ $# -gt 0 ]; do
  case "$1" in
    -a|--arch) val "$@"; arch="$2"; shift 2 ;;
    -k|--kernel) val "$@"; kernel="$2"; shift 2 ;;
    --ns) val "$@"; ns_specs+=("$2"); shift 2 ;;
    --serial) val "$@"; serial="$2"; shift 2 ;;
    --ctrl) val "$@"; ctrl_props="$2"; shift 2 ;;
    --other-ctrl) val "$@"; other_ctrls+=("$2"); shift 2 ;;
    --pre-device) val "$@"; pre_devs+=(-device "$2"); shift 2 ;;
    --subsys) val "$@"; subsys="$2"; shift 2 ;;
    --machine) val "$@"; machine="$2"; shift 2 ;;
    --smp) val "$@"; smp="$2"; shift 2 ;;
    --hotplug) hotplug=1; shift ;;
    --hook) val "$@"; case "$2" in ?*=?*) hooks+=("$2") ;; *) die "--hook wants NAME=COMMAND" ;; esac; shift 2 ;;
    --irq) val "$@"; irq="$2"; shift 2 ;;
    --opt) val "$@"; opts+=("$2"); shift 2 ;;
    --qemu) val "$@"; qemu_extra+=("$2"); shift 2 ;;
    --qemu-bin) val "$@"; qemu_bin="$2"; shift 2 ;;
    --log) val "$@"; log="$2"; shift 2 ;;
    --timeout) val "$@"; timeout_s="$2"; shift 2 ;;
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
  aarch64|arm64) arch=aarch64 ;;
  riscv64|riscv) arch=riscv64 ;;
  armv7|arm|armhf) arch=armv7 ;;
  *) die "unknown arch $arch" ;;
esac
[ "$hotplug" = 1 ] && [ -z "$machine" ] && case "$arch" in x86_64|i386) machine=q35 ;; esac
case "$arch:$machine" in
  x86_64:|i386:) machine=pc ;;
  aarch64:|riscv64:|armv7:) machine=virt ;;
  x86_64:pc|x86_64:q35|i386:pc|i386:q35|aarch64:virt|riscv64:virt|armv7:virt) ;;
  *) die "unknown machine $machine for $arch (x86: pc or q35; aarch64, riscv64, armv7: virt)" ;;
esac
case "$smp" in ''|[1-9]|[1-9][0-9]) ;; *) die "--smp wants a number of CPUs" ;; esac
[ "$hotplug" = 1 ] && [ "$machine" = pc ] && die "--hotplug needs --machine q35 (PCIe) on x86"
case "$timeout_s" in ''|*[!0-9]*) die "--timeout wants whole seconds" ;; esac
# 0 is no limit at all to timeout(1): a hung boot would wait for ever
[ $((10#$timeout_s)) -gt 0 ] || die "--timeout wants at least 1 second (0 would be no limit)"
if [ -z "$qemu_bin" ]; then
  if [ "$arch" = i386 ] && command -v qemu-system-i386 >/dev/null 2>&1; then
    qemu_bin=qemu-system-i386
  elif [ "$arch" = aarch64 ] || [ "$arch" = riscv64 ]; then
    qemu_bin=qemu-system-$arch
  elif [ "$arch" = armv7 ]; then
    qemu_bin=qemu-system-arm
  else
    qemu_bin=qemu-system-x86_64
  fi
fi
case "$arch" in
  aarch64|armv7) qemu_pkg=qemu-system-arm kernel_name=nvme-harness.img ;;
  riscv64) qemu_pkg=qemu-system-misc kernel_name=nvme-harness.elf ;;
  *) qemu_pkg=qemu-system-x86 kernel_name=nvme-harness.elf ;;
esac

# --dry-run: nothing below may build or create anything; paths that would be
# created are shown as they would be made.
if [ $dry -eq 1 ]; then
  tmpdir="${TMPDIR:-/tmp}/nvme-run.XXXXXX"
else
  command -v "$qemu_bin" >/dev/null 2>&1 || die "$qemu_bin not found (apt-get install $qemu_pkg)"
fi

if [ -z "$kernel" ]; then
  out="${NVME_QEMU_BUILD:-/tmp/nvme-qemu-build}/$arch"
  if [ $dry -eq 0 ]; then
    make -s -C "$here" ARCH="$arch" O="$out" >&2 || die "building the harness failed"
  fi
  kernel="$out/$kernel_name"
fi
[ $dry -eq 1 ] || [ -f "$kernel" ] || die "no kernel image $kernel"

qemu_pid=
if [ $dry -eq 0 ]; then
  tmpdir="$(mktemp -d "${TMPDIR:-/tmp}/nvme-run.XXXXXX")" || die "mktemp failed"
  cleanup() { rm -rf "$tmpdir"; }
  trap cleanup EXIT
  trap 'exit 2' INT TERM
fi

[ ${#ns_specs[@]} -eq 0 ] && ns_specs=("path=$tmpdir/scratch.img,size=64M")

# The machine, its exit device and the accelerator per arch (the harness
# ends QEMU through the exit device with status 1 pass, 3 fail, 5 crash).
accel=tcg
case "$arch" in
  aarch64)
    machine_args=(-machine virt,gic-version=3,its=on -cpu cortex-a57
      -semihosting-config enable=on,target=native)
    [ -n "$smp" ] && [ "$smp" -gt 1 ] && accel=tcg,thread=multi ;;
  # 32-bit ARM: highmem=off keeps the ECAM and every PCI window below 4 GiB
  # (with an LPAE CPU QEMU would put the ECAM at 0x40_1000_0000)
  armv7)
    machine_args=(-machine virt,highmem=off -cpu cortex-a15
      -semihosting-config enable=on,target=native) ;;
  # riscv64: MSI-X needs the AIA's IMSIC (and a CPU with Smaia); that
  # machine has no PLIC, so INTx and polling keep the default one
  riscv64)
    machine_args=(-machine virt -bios none)
    case $irq in '' | msix)
      machine_args=(-machine virt,aia=aplic-imsic -cpu rv64,x-smaia=true,x-ssaia=true -bios none) ;;
    esac ;;
  *) machine_args=(-machine "$machine" -device isa-debug-exit,iobase=0xf4,iosize=0x04) ;;
esac
[ -n "$smp" ] && machine_args+=(-smp "$smp")
ctrl_bus=
if [ "$hotplug" = 1 ]; then
  # Native PCIe hotplug: with QEMU's default ACPI hotplug on q35 (6.1+),
  # device_del would wait for an ACPI _EJ0 the bare-metal harness cannot run.
  [ "$machine" = q35 ] && machine_args+=(-global ICH9-LPC.acpi-pci-hotplug-with-bridge-support=off)
  machine_args+=(-device pcie-root-port,id=rp0,bus=pcie.0,chassis=1,slot=1)
  ctrl_bus=",bus=rp0"
fi
dev_args=("${pre_devs[@]+"${pre_devs[@]}"}")
k=0
for props in "${other_ctrls[@]+"${other_ctrls[@]}"}"; do
  k=$((k + 1))
  case ",$props," in *,serial=*) ;; *) props="serial=other$k${props:+,$props}" ;; esac
  case ",$props," in *,serial="$serial",*) die "--other-ctrl: serial $serial is the driven controller's" ;; esac
  dev_args+=(-device "nvme,id=nvmeo$k,$props")
done
[ -n "$subsys" ] && dev_args+=(-device "nvme-subsys,id=nvmesubsys0,nqn=$subsys")
dev_args+=(-device "nvme,id=nvme0,serial=$serial$ctrl_bus${subsys:+,subsys=nvmesubsys0}${ctrl_props:+,$ctrl_props}")
to_create=()
next_nsid=1
i=0
for spec in "${ns_specs[@]}"; do
  path= size= nsid= lbs= extra= drive_extra= blkdebug=
  IFS=, read -r -a kv <<<"$spec"
  for item in "${kv[@]}"; do
    case "$item" in
      path=*) path="${item#path=}" ;;
      size=*) size="${item#size=}" ;;
      nsid=*) nsid="${item#nsid=}" ;;
      lbs=*) lbs="${item#lbs=}" ;;
      blkdebug=*) blkdebug="${item#blkdebug=}" ;;
      drive.*=*) drive_extra="$drive_extra,${item#drive.}" ;;
      *=*) extra="$extra,$item" ;;
      *) [ -z "$path" ] && path="$item" || die "bad --ns item '$item'" ;;
    esac
  done
  [ -n "$path" ] || die "--ns needs path=FILE"
  if [ ! -e "$path" ]; then
    [ -n "$size" ] || die "$path does not exist and no size= given"
    to_create+=("$size" "$path")
  fi
  if [ -n "$blkdebug" ]; then
    [ $dry -eq 1 ] || [ -f "$blkdebug" ] || die "no blkdebug config $blkdebug"
    file_args="file.driver=blkdebug,file.config=$blkdebug,file.image.driver=file,file.image.filename=$path"
  else
    file_args="file=$path"
  fi
  [ -n "$nsid" ] || nsid=$next_nsid
  next_nsid=$((nsid + 1))
  dev_args+=(-drive "$file_args,if=none,id=nsdrv$i,format=raw,cache=writethrough$drive_extra")
  dev_args+=(-device "nvme-ns,id=ns$nsid,drive=nsdrv$i,bus=nvme0,nsid=$nsid${lbs:+,logical_block_size=$lbs,physical_block_size=$lbs}$extra")
  i=$((i + 1))
done

append=
[ -n "$irq" ] && append="irq=$irq"
pinned=0
for o in "${opts[@]+"${opts[@]}"}"; do
  append="${append:+$append; }$o"
  case "$o" in pci=* | serial=*) pinned=1 ;; esac
done
# with other controllers about, the options above describe the one of $serial
if [ ${#other_ctrls[@]} -gt 0 ] && [ $pinned = 0 ]; then
  case "$serial" in *[\ \;]*) die "--serial '$serial' has a blank or ';': pin with --opt pci= instead" ;; esac
  append="${append:+$append; }serial=$serial"
fi
[ -n "$cmds" ] && append="${append:+$append; }$cmds"

qmp_sock="$tmpdir/qmp.sock"
mon_args=(-monitor none)
[ ${#hooks[@]} -gt 0 ] && mon_args+=(-qmp "unix:$qmp_sock,server=on,wait=off")

qemu_cmd=("$qemu_bin" "${machine_args[@]}" -accel "$accel" -m 256M -nodefaults -display none -no-reboot
  "${mon_args[@]}" -serial stdio
  -kernel "$kernel" -append "$append"
  "${dev_args[@]}" "${qemu_extra[@]+"${qemu_extra[@]}"}")

if [ $dry -eq 1 ]; then
  j=0
  while [ $j -lt ${#to_create[@]} ]; do
    echo "# would create ${to_create[$((j + 1))]} (${to_create[$j]})"
    j=$((j + 2))
  done
  printf '%q ' "${qemu_cmd[@]}"; echo
  exit 0
fi

j=0
while [ $j -lt ${#to_create[@]} ]; do
  truncate -s "${to_create[$j]}" "${to_create[$((j + 1))]}" || die "cannot create ${to_create[$((j + 1))]}"
  j=$((j + 2))
done

serial_log="$tmpdir/serial.log"
qemu_err="$tmpdir/qemu.stderr"
qemu_rc="$tmpdir/qemu.rc"
serial_in="$tmpdir/serial.in"
mkfifo "$serial_in" || die "mkfifo failed"
# QEMU's serial input (the harness's "hook" command waits on it); opened
# read-write so that neither side blocks on open and QEMU never sees EOF.
exec 3<>"$serial_in"

# Answers "harness: HOOK NAME": runs the monitor commands given for NAME,
# shows what they said, then tells the harness on its serial input
# ("ACK ok", "ACK fail", or "ACK none" when no --hook names NAME).
run_hook() {
  local name="$1" h cmd out rc verdict=none
  for h in "${hooks[@]+"${hooks[@]}"}"; do
    [ "${h%%=*}" = "$name" ] || continue
    cmd="${h#*=}"
    out="$(python3 "$here/qmp.py" "$qmp_sock" "$cmd" 2>&1)"
    rc=$?
    printf 'run.sh: hook %s: %s -> %s\n' "$name" "$cmd" "$([ $rc -eq 0 ] && echo ok || echo "FAILED ($rc)")"
    [ -n "$out" ] && printf '%s\n' "$out" | sed 's/^/run.sh:   /'
    if [ $rc -ne 0 ]; then verdict=fail; elif [ "$verdict" = none ]; then verdict=ok; fi
  done
  [ "$verdict" = none ] && printf 'run.sh: hook %s: no --hook for it\n' "$name"
  printf 'ACK %s\n' "$verdict" >&3
}

start=$(date +%s.%N)
# QEMU in the background of a pipeline whose reader shows the serial
# output live, keeps it, and answers the harness's HOOK lines.
{
  timeout --foreground -k 5 "$timeout_s" "${qemu_cmd[@]}" <&3 2>"$qemu_err"
  echo $? >"$qemu_rc"
} | while IFS= read -r line || [ -n "$line" ]; do
  line="${line%$'\r'}"
  printf '%s\n' "$line"
  printf '%s\n' "$line" >>"$serial_log"
  case "$line" in
    "harness: HOOK "*) run_hook "${line#harness: HOOK }" ;;
  esac
done
exec 3>&-
end=$(date +%s.%N)
status=$(cat "$qemu_rc" 2>/dev/null || echo 255)
touch "$serial_log"
[ -n "$log" ] && cp "$serial_log" "$log"

# The harness's own verdict: the last RESULT line it printed.
said=$(grep -a -E '^harness: RESULT (PASS|FAIL)' "$serial_log" | tail -n 1)
# Exit device (isa-debug-exit, or on aarch64/armv7/riscv64 semihosting/SiFive
# test with the same codes): status = (code << 1) | 1; code 0 pass, 1
# fail, 2 crash.  Status 1 is also what QEMU returns when it cannot start,
# so it means PASS only together with the harness's RESULT PASS line.
case "$status:$said" in
  "1:harness: RESULT PASS") result=0; verdict=PASS ;;
  "3:harness: RESULT FAIL"*) result=1; verdict="FAIL ${said#harness: RESULT FAIL }" ;;
  5:*) result=2; verdict="CRASH (CPU exception in the harness)" ;;
  124:*|137:*) result=2; verdict="TIMEOUT after ${timeout_s}s" ;;
  1:) if [ -s "$serial_log" ]; then
        result=2; verdict="QEMU exited with status 1 but the harness printed no RESULT line"
      else
        result=2; verdict="QEMU exited with status 1 before the harness said anything (QEMU failed to start?)"
      fi ;;
  0:*) result=2; verdict="QEMU exited with status 0, no verdict from the exit device (triple fault, reset or power-off?)" ;;
  *) result=2; verdict="QEMU exit status $status with harness verdict '${said:-none}'" ;;
esac
if [ ! -s "$qemu_err" ]; then
  [ $result -eq 2 ] && echo "run.sh: QEMU's stderr was empty" >&2
else
  if [ $result -ne 0 ]; then
    echo "run.sh: QEMU's stderr:" >&2
    sed 's/^/run.sh:   /' "$qemu_err" >&2
  else
    sed 's/^/run.sh: QEMU said: /' "$qemu_err" >&2
  fi
fi
# awk, not bc: bc is not on a fresh Debian 12 (priority optional), and its
# absence printed every boot as 0.0s
printf 'run.sh: %s (%s, %ss)\n' "$verdict" "$arch" "$(awk -v s="$start" -v e="$end" 'BEGIN { printf "%.1f", e - s }')" >&2
exit $result
