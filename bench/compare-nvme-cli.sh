#!/usr/bin/env bash
# compare-nvme-cli.sh - nvmectl's output against Debian's nvme-cli binary,
# command by command, on exactly the same QEMU NVMe controller (a
# comparison run by hand, never by CI: it downloads a kernel).
#
#   bench/compare-nvme-cli.sh [COMMANDS-FILE]
#   env: NVME_BENCH_WORK=/tmp/nvme-compare-linux (kernel and initramfs
#        cache, shared with compare-linux.sh), DIFF=1 (print each
#        difference), KEEP_LOGS=1 (keep both serial logs)
#
# COMMANDS-FILE: one nvmectl command line per line, as nvme-cli takes it
# after its device (default: the list below); both sides run them in that
# order, on fresh images, so a command that changes the controller
# (virt-mgmt) changes it for both.
# The device: q35, an nvme-subsys, an SR-IOV controller (two secondary
# controllers, flexible queue and interrupt resources), namespace 1 (16
# MiB, 512-byte blocks) attached, namespace 2 (16 MiB, 4096-byte blocks)
# detached.  Linux: Debian's linux-image-amd64 and a busybox initramfs
# with nvme-cli and its libraries (linux-guest.sh); nvme-cli runs each
# line on /dev/nvme0.  nvme-core: the x86_64 harness (run.sh) with the
# same -device options.
# Prints one line per command: "identical" or how many lines differ (a
# value the device changed between the runs, such as SMART counters,
# shows as a difference too).  Exit 1 only when a guest fails to run.
set -euo pipefail
src=$(cd "$(dirname "$0")/.." && pwd)
work=${NVME_BENCH_WORK:-/tmp/nvme-compare-linux}
say() { echo "compare-nvme-cli: $*" >&2; }
cmds_file=${1:-}
default_cmds="id-ctrl
id-ns -n 1
id-ns -n 2 --force
ns-descs -n 1
list-ns
list-ns -a
list-ctrl
primary-ctrl-caps
list-secondary
virt-mgmt -c 1 -a 8 -r 0 -n 2
list-secondary -e 1
virt-mgmt -c 1 -a 8 -r 0 -n 0
id-iocs
nvm-id-ctrl
nvm-id-ns -n 1
get-feature -f 1
get-feature -f 2 -H
get-feature -f 4 -H
get-feature -f 6 -H
get-feature -f 8 -H
get-feature -f 0xb -H
get-feature -f 0xe -H
get-feature -f 7
smart-log
fw-log
error-log -e 2
effects-log
changed-ns-list-log"
if [ -n "$cmds_file" ]; then
  [ -r "$cmds_file" ] || { say "cannot read $cmds_file"; exit 2; }
  cmds=$(grep -v '^[[:space:]]*$' "$cmds_file")
else
  cmds=$default_cmds
fi
command -v qemu-system-x86_64 >/dev/null || { say "qemu-system-x86_64 not found"; exit 2; }
mkdir -p "$work"
logs=$(mktemp -d "${TMPDIR:-/tmp}/nvme-compare-cli.XXXXXX")
cleanup=("$logs/a.img" "$logs/b.img")
[ "${KEEP_LOGS:-0}" = 1 ] || cleanup+=("$logs")
trap 'rm -rf "${cleanup[@]}"' EXIT

# shellcheck source=bench/linux-guest.sh
. "$src/bench/linux-guest.sh"
lg_packages nvme:nvme-cli -busybox-static:busybox-static cpio:cpio
lg_kernel "$work"

# --- initramfs: busybox, nvme-cli, the nvme modules; /init runs the list ----------------
r=$(mktemp -d)
cleanup+=("$r")
lg_binary "$r" "$(command -v nvme)"
lg_root "$r" crct10dif_generic crc64_rocksoft_generic nvme
{
  echo '#!/bin/busybox sh'
  echo '/bin/busybox --install -s /bin'
  echo 'export PATH=/bin:/usr/bin:/usr/sbin'
  echo 'mount -t proc proc /proc; mount -t sysfs sysfs /sys; mount -t devtmpfs dev /dev'
  echo "for m in ${lg_modules[*]}; do insmod /mods/\$m.ko 2>/dev/null; done"
  echo 'i=0; while [ ! -c /dev/nvme0 ] && [ $i -lt 100 ]; do sleep 0.1; i=$((i+1)); done'
  echo 'sleep 1'
  echo 'echo "LINUX: nvme-cli $(nvme version | head -n 1)"'
  while IFS= read -r c; do
    set -- $c
    w=$1; shift
    printf 'echo "CMD-BEGIN %s"; nvme %s /dev/nvme0 %s 2>&1; echo "CMD-END"\n' "$c" "$w" "$*"
  done <<<"$cmds"
  echo 'echo "LINUX: done"'
  echo 'poweroff -f'
} >"$r/init"
chmod +x "$r/init"
initrd="$logs/initrd.gz"
lg_cpio "$r" "$initrd"

# --- the device, for both ---------------------------------------------------------------
ctrl="sriov_max_vfs=2,sriov_vq_flexible=4,sriov_vi_flexible=2,max_ioqpairs=6,msix_qsize=4"
nqn="nqn.2019-08.org.qemu:compare"
fresh() { rm -f "$logs/a.img" "$logs/b.img"; truncate -s 16M "$logs/a.img" "$logs/b.img"; }

fresh
rc=0
timeout 300 qemu-system-x86_64 -machine q35 -accel tcg -m 512M -smp 1 -nodefaults -display none \
  -no-reboot -monitor none -serial "file:$logs/linux.log" -kernel "$lg_kdir/vmlinuz" -initrd "$initrd" \
  -append "console=ttyS0 quiet panic=-1" -device "nvme-subsys,id=ss0,nqn=$nqn" \
  -device "nvme,id=nvme0,serial=deadbeef,subsys=ss0,$ctrl" \
  -drive "file=$logs/a.img,if=none,id=d1,format=raw,cache=writethrough" -device nvme-ns,drive=d1,bus=nvme0,nsid=1 \
  -drive "file=$logs/b.img,if=none,id=d2,format=raw,cache=writethrough" \
  -device nvme-ns,drive=d2,bus=nvme0,nsid=2,logical_block_size=4096,physical_block_size=4096,detached=true \
  </dev/null >/dev/null 2>&1 || rc=$?
grep -q "^LINUX: done" "$logs/linux.log" || { say "the Linux guest did not finish (QEMU exit $rc): $logs"; cleanup=(); exit 1; }

fresh
line=$(printf '%s\n' "$cmds" | paste -sd';' | sed 's/;/; /g')
rc=0
"$src/tests/qemu/run.sh" --arch x86_64 --machine q35 --subsys "$nqn" --ctrl "$ctrl" \
  --ns "path=$logs/a.img,nsid=1" --ns "path=$logs/b.img,nsid=2,lbs=4096,detached=true" \
  "$line" >"$logs/harness.log" 2>&1 || rc=$?
grep -q "^harness: after nvme_ctrl_fini" "$logs/harness.log" ||
  { say "the harness did not finish (run.sh exit $rc): $logs"; cleanup=(); exit 1; }

printf '%s\n' "$cmds" >"$logs/commands"
python3 - "$logs/linux.log" "$logs/harness.log" "$logs/commands" "${DIFF:-0}" <<'PY'
import difflib, re, sys
lin = open(sys.argv[1], errors="replace").read().replace("\r", "")
har = open(sys.argv[2], errors="replace").read()
show = sys.argv[4] == "1"
m = re.search(r"^LINUX: nvme-cli (.*)$", lin, re.M)
print("nvme-cli: %s; nvmectl: the harness; one QEMU controller" % (m.group(1) if m else "?"))
for c in [l.strip() for l in open(sys.argv[3]) if l.strip()]:
    a = re.search(r"CMD-BEGIN %s\n(.*?)CMD-END" % re.escape(c), lin, re.S)
    s = har.find("nvmectl> %s\n" % c)
    if a is None or s < 0:
        print("%-32s not run" % c)
        continue
    s += len("nvmectl> %s\n" % c)
    ends = [e for e in (har.find("nvmectl> ", s), har.find("harness: after", s)) if e >= 0]
    b = [l for l in har[s:min(ends) if ends else len(har)].split("\n")
         if not l.startswith(("harness:", "nvme info", "nvme warn"))]
    d = list(difflib.unified_diff(a.group(1).split("\n"), b, "nvme-cli", "nvmectl", lineterm="", n=0))
    print("%-32s %s" % (c, "identical" if not d else "%d lines differ" % sum(
        1 for l in d if l[:1] in "+-" and not l.startswith(("---", "+++")))))
    if d and show:
        print("\n".join(d[2:]))
PY
