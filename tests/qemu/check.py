#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""
check.py - one QEMU boot of the nvme-core harness kernel, checked.

    check.py CASE --arch x86_64 --kernel nvme-harness.elf [--run run.sh] [--workdir DIR]

Each CASE builds its disk images, boots QEMU once through run.sh with a
list of nvmectl commands, then checks the serial output (and, for writes,
the disk images on the host after QEMU exited).  Exit status 0 = pass.
Cases: basic, intx, poll, xfer (see CASES below).
"""
import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
MiB = 1 << 20


class Checker:
    def __init__(self, log):
        self.log = log
        self.failures = []

    def ok(self, cond, what):
        print(("  ok    " if cond else "  FAIL  ") + what)
        if not cond:
            self.failures.append(what)
        return cond

    def has(self, pattern, what=None):
        m = re.search(pattern, self.log, re.M)
        self.ok(m is not None, what or ("output matches /%s/" % pattern))
        return m

    def hasnt(self, pattern, what=None):
        m = re.search(pattern, self.log, re.M)
        self.ok(m is None, what or ("output does not match /%s/" % pattern))

    def section(self, cmd):
        """Output of one command: from its 'nvmectl> CMD' line to the next prompt."""
        start = self.log.find("nvmectl> " + cmd + "\n")
        if start < 0:
            self.ok(False, "command '%s' was run" % cmd)
            return ""
        start += len("nvmectl> " + cmd + "\n")
        end = self.log.find("nvmectl> ", start)
        end2 = self.log.find("harness: after nvme_ctrl_fini", start)
        ends = [e for e in (end, end2) if e >= 0]
        return self.log[start:min(ends) if ends else len(self.log)]


def hexdump_bytes(text):
    """Rebuilds the bytes of a hexdump -C style dump ('*' repeats the line)."""
    data = {}
    prev = None
    lines = text.splitlines()
    for line in lines:
        if line.strip() == "*":
            prev = ("star", prev)
            continue
        m = re.match(r"^([0-9a-f]{8})(?:  ((?:[0-9a-f]{2} {1,2}){1,16}))?", line)
        if not m:
            continue
        off = int(m.group(1), 16)
        vals = [int(x, 16) for x in m.group(2).split()] if m.group(2) else []
        if prev and prev[0] == "star" and prev[1]:
            poff, pvals = prev[1]
            o = poff + 16
            while o < off:
                for j, v in enumerate(pvals):
                    data[o + j] = v
                o += 16
        for j, v in enumerate(vals):
            data[off + j] = v
        prev = (off, vals)
    return data


def make_image(path, size, mbr=False):
    with open(path, "wb") as f:
        f.truncate(size)
    if mbr:
        # a real MBR: DOS label, two partitions, made by sfdisk
        script = "label: dos\nlabel-id: 0x4e564d45\nstart=2048, size=8192, type=83\nstart=10240, type=c\n"
        subprocess.run(["sfdisk", "-q", path], input=script.encode(), check=True,
                       stdout=subprocess.DEVNULL)


def read_at(path, off, n):
    with open(path, "rb") as f:
        f.seek(off)
        return f.read(n)


# --------------------------------------------------------------------------
# cases
# --------------------------------------------------------------------------
SIG = "NVMECORE-SIG-"


def case_basic(w):
    """info, ready, list (NSIDs 1, 2, 4), flush on the I/O CQ with MSI-X,
    MBR read, signatures written to every namespace, smart."""
    ns = [  # (nsid, size, lbs, mbr, signature LBA)
        (1, 32 * MiB, 512, True, 20000),
        (2, 16 * MiB, 512, False, 1000),
        (4, 8 * MiB, 4096, False, 7),
    ]
    specs, cmds = [], ["info", "ready", "list", "flush -n 1", "check-irqs", "read -n 1 -s 0"]
    for nsid, size, lbs, mbr, lba in ns:
        img = os.path.join(w.dir, "ns%d.img" % nsid)
        make_image(img, size, mbr)
        specs.append("path=%s,nsid=%d,lbs=%d" % (img, nsid, lbs))
    for nsid, size, lbs, mbr, lba in ns:
        cmds.append("write -n %d -s %d -t %sNS%d" % (nsid, lba, SIG, nsid))
    for nsid, *_ in ns:
        cmds.append("flush -n %d" % nsid)
    for nsid, size, lbs, mbr, lba in ns:
        cmds.append("read -n %d -s %d" % (nsid, lba))
    cmds += ["smart", "check-irqs"]
    c = w.boot(specs, cmds, irq="msix")

    # 1. info: registers and identify data as QEMU 7.2 configures them
    s = c.section("info")
    c.ok(re.search(r"^version\s*: 1\.4\.0$", s, re.M) is not None, "info: version 1.4.0 (VS)")
    c.ok(re.search(r"max queue depth 2048\)", s) is not None, "info: CAP.MQES+1 = 2048")
    c.ok(re.search(r"^sn\s*: deadbeef$", s, re.M) is not None, "info: serial deadbeef")
    c.ok(re.search(r"^mn\s*: QEMU NVMe Ctrl$", s, re.M) is not None, "info: model 'QEMU NVMe Ctrl'")
    c.ok(re.search(r"^vid\s*: 0x1b36$", s, re.M) is not None, "info: vendor 1b36 (Red Hat/QEMU)")
    c.has(r"^harness: left by firmware: CAP=0x[0-9a-f]+ VS=0x00010400 .*MQES\+1=2048",
          "raw registers: VS=0x00010400, MQES+1=2048")
    # 2. ready, from the state SeaBIOS left
    c.has(r"^harness: left by firmware: .* CC\.EN=1 CSTS\.RDY=1$", "SeaBIOS left CC.EN=1, CSTS.RDY=1")
    c.has(r"^harness: nvme_ctrl_init ok .*enabled_at_start=1", "enabled_at_start=1 reported by the core")
    c.ok(re.search(r"controller is up .*RDY=1 CFS=0", c.section("ready")) is not None,
         "ready: controller is up, RDY=1 CFS=0")
    # 3. list: NSIDs 1, 2, 4 with their capacities in sectors
    s = c.section("list")
    for nsid, size, lbs, mbr, lba in ns:
        c.ok(re.search(r"^nvme0n%d\s+%d\s+%d\s+%d\b" % (nsid, nsid, size // lbs, lbs), s, re.M)
             is not None, "list: nsid %d, %d sectors of %d bytes" % (nsid, size // lbs, lbs))
    c.ok("nvme0n3" not in s, "list: no nsid 3")
    c.ok(re.search(r"^3 namespace\(s\)", s, re.M) is not None, "list: 3 namespaces")
    # 4. flush completes on the I/O CQ; MSI-X interrupts reached the core
    c.ok("flush complete" in c.section("flush -n 1"), "flush -n 1 completes")
    c.has(r"^irqs: mode=msix vectors=[2-9]\d* intx=0 nvme_ctrl_irq_count=[1-9]\d* delivered: .*v1=[1-9]",
          "MSI-X: nvme_ctrl_irq_count > 0, I/O vector 1 delivered")
    # 5. the MBR, byte for byte
    got = hexdump_bytes(c.section("read -n 1 -s 0"))
    want = read_at(os.path.join(w.dir, "ns1.img"), 0, 512)
    c.ok(len(got) == 512 and bytes(got.get(i, -1) % 256 for i in range(512)) == want,
         "read -n 1 -s 0: 512 bytes equal to the sfdisk MBR")
    c.ok(got.get(510) == 0x55 and got.get(511) == 0xAA, "MBR signature 55 aa at 0x1fe")
    # 6./7. signatures: read back in the same boot, then on the host
    for nsid, size, lbs, mbr, lba in ns:
        sig = ("%sNS%d" % (SIG, nsid)).encode()
        d = hexdump_bytes(c.section("read -n %d -s %d" % (nsid, lba)))
        back = bytes(d.get(lba * lbs + i, 0) for i in range(len(sig)))
        c.ok(back == sig, "ns%d: signature read back in the same boot" % nsid)
        img = os.path.join(w.dir, "ns%d.img" % nsid)
        c.ok(read_at(img, lba * lbs, len(sig)) == sig,
             "ns%d: host image holds the signature at byte %d" % (nsid, lba * lbs))
        blob = open(img, "rb").read()
        c.ok(blob.count(SIG.encode()) == 1, "ns%d: image holds no other namespace's signature" % nsid)
    # 9. smart
    s = c.section("smart")
    c.ok(re.search(r"^critical_warning\s*: 0x0$", s, re.M) is not None, "smart: critical_warning 0x0")
    c.ok(re.search(r"^temperature\s*: \d+ C \(\d+ Kelvin\)$", s, re.M) is not None, "smart: temperature")
    for f in ("available_spare", "percentage_used", "data_units_written", "host_write_commands",
              "power_on_hours", "media_errors"):
        c.ok(re.search(r"^%s\s*: \d+" % f, s, re.M) is not None, "smart: %s" % f)
    c.ok(re.search(r"^host_write_commands\s*: [1-9]", s, re.M) is not None,
         "smart: host_write_commands counts our writes")
    return c


def irq_case(w, mode):
    img = os.path.join(w.dir, "ns1.img")
    make_image(img, 16 * MiB)
    cmds = ["flush -n 1", "check-irqs", "reset", "verify -n 1 -s 5 -c 8", "ready", "check-irqs"]
    c = w.boot(["path=%s" % img], cmds, irq=mode)
    c.ok("flush complete" in c.section("flush -n 1"), "flush -n 1 completes on the I/O CQ")
    c.ok("verify ok" in c.section("verify -n 1 -s 5 -c 8"), "verify 8 blocks after a controller reset")
    if mode == "intx":
        c.has(r"^harness: irq_setup\(want=\d+\): INTx pin 1 -> IOAPIC pin \d+", "INTx routed through the IOAPIC")
        c.has(r"^irqs: mode=intx vectors=1 intx=1 nvme_ctrl_irq_count=[1-9]\d* delivered: v0=[1-9]",
              "INTx: nvme_ctrl_irq_count > 0")
    else:
        c.hasnt(r"^harness: irq_setup", "polling: no interrupt set up")
        c.has(r"^irqs: mode=poll vectors=0 intx=0 nvme_ctrl_irq_count=0 delivered: none",
              "polling: nvme_ctrl_irq_count == 0, nothing delivered")
    return c


def case_intx(w):
    """I/O queue + Flush with INTx through the IOAPIC, reset, I/O again."""
    return irq_case(w, "intx")


def case_poll(w):
    """I/O queue + Flush with polling only, reset, I/O again."""
    return irq_case(w, "poll")


def case_xfer(w):
    """Transfers of many sizes with mdts=2 (16 KiB per command), 512 and
    4096-byte namespaces, two I/O queues; smart with a critical warning."""
    a = os.path.join(w.dir, "a.img")
    b = os.path.join(w.dir, "b.img")
    make_image(a, 16 * MiB)
    make_image(b, 16 * MiB)
    v512 = [(0, 1), (1, 2), (3, 3), (7, 8), (13, 64), (100, 256), (999, 1000), (32767 - 7, 7)]
    v4k = [(0, 1), (1, 3), (9, 8), (20, 64), (200, 256), (4096 - 5, 5)]
    cmds = ["info"]
    cmds += ["verify -n 1 -s %d -c %d -k %d" % (s, n, i) for i, (s, n) in enumerate(v512)]
    cmds += ["verify -n 2 -s %d -c %d -k %d" % (s, n, 100 + i) for i, (s, n) in enumerate(v4k)]
    cmds += ["!read -n 1 -s 32768", "!verify -n 3 -s 0 -c 1", "smart", "check-irqs"]
    c = w.boot(["path=%s,nsid=1" % a, "path=%s,nsid=2,lbs=4096" % b], cmds, irq="msix",
               ctrl="mdts=2,smart_critical_warning=5", opts=["ioq=2"])
    c.ok(re.search(r"^mdts\s*: 16384 bytes", c.section("info"), re.M) is not None,
         "info: MDTS 16384 bytes (mdts=2)")
    for i, (s, n) in enumerate(v512):
        c.ok(re.search(r"verify ok: %d block" % n, c.section("verify -n 1 -s %d -c %d -k %d" % (s, n, i)))
             is not None, "512 B namespace: %d block(s) at LBA %d verified" % (n, s))
    for i, (s, n) in enumerate(v4k):
        c.ok(re.search(r"verify ok: %d block" % n, c.section("verify -n 2 -s %d -c %d -k %d" % (s, n, 100 + i)))
             is not None, "4 KiB namespace: %d block(s) at LBA %d verified" % (n, s))
    c.has(r"^harness: 'read -n 1 -s 32768' failed as expected", "read past the end of the namespace fails")
    c.has(r"^harness: 'verify -n 3 -s 0 -c 1' failed as expected", "I/O to an inactive NSID fails")
    s = c.section("smart")
    c.ok(re.search(r"^critical_warning\s*: 0x5\b", s, re.M) is not None,
         "smart: critical_warning 0x5 (smart_critical_warning=5)")
    c.ok(re.search(r"^temperature\s*: \d+ C", s, re.M) is not None, "smart: temperature")
    c.has(r"^irqs: mode=msix vectors=3 intx=0 nvme_ctrl_irq_count=[1-9]", "two I/O queues: 3 MSI-X vectors")
    return c


CASES = {"basic": case_basic, "intx": case_intx, "poll": case_poll, "xfer": case_xfer}


class Work:
    def __init__(self, args, tmp):
        self.args = args
        self.dir = tmp

    def boot(self, ns_specs, cmds, irq="msix", ctrl="", opts=()):
        argv = [self.args.run, "--arch", self.args.arch, "--kernel", self.args.kernel,
                "--irq", irq, "--timeout", str(self.args.timeout)]
        if ctrl:
            argv += ["--ctrl", ctrl]
        for o in opts:
            argv += ["--opt", o]
        for s in ns_specs:
            argv += ["--ns", s]
        argv.append("; ".join(cmds))
        print("$ " + " ".join("'%s'" % a if (" " in a or ";" in a) else a for a in argv))
        t0 = time.time()
        p = subprocess.run(argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        log = p.stdout.decode(errors="replace")
        print(log)
        print("(boot took %.1fs, run.sh status %d)" % (time.time() - t0, p.returncode))
        c = Checker(log)
        c.ok(p.returncode == 0, "run.sh exit status 0 (harness RESULT PASS)")
        c.has(r"^harness: RESULT PASS$", "harness: RESULT PASS")
        c.has(r"^harness: after nvme_ctrl_fini: .*SHST=2\) dma in use 0, heap in use 0$",
              "nvme_ctrl_fini: shutdown complete, no memory left allocated")
        # the one warning expected: "controller reset" right after our reset command
        unexpected = re.sub(r"(?m)^(nvmectl> reset\n)nvme warn: nvme: controller reset\n", r"\1", log)
        c.ok(re.search(r"^nvme (error|warn):", unexpected, re.M) is None,
             "no error or warning logged by the core")
        return c


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("case", choices=sorted(CASES))
    ap.add_argument("--arch", default="x86_64")
    ap.add_argument("--kernel", required=True)
    ap.add_argument("--run", default=os.path.join(HERE, "run.sh"))
    ap.add_argument("--workdir")
    ap.add_argument("--timeout", type=int, default=60)
    args = ap.parse_args()
    if shutil.which("qemu-system-x86_64") is None:
        print("FAIL: qemu-system-x86_64 not found (apt-get install qemu-system-x86)")
        return 1
    tmp = args.workdir or tempfile.mkdtemp(prefix="nvme-qemu-%s-%s." % (args.case, args.arch))
    os.makedirs(tmp, exist_ok=True)
    print("%s on %s (%s), work dir %s" % (args.case, args.arch, CASES[args.case].__doc__.strip().split("\n")[0], tmp))
    c = CASES[args.case](Work(args, tmp))
    if c.failures:
        print("\n%d check(s) FAILED (images kept in %s):" % (len(c.failures), tmp))
        for f in c.failures:
            print("  - " + f)
        return 1
    if not args.workdir:
        shutil.rmtree(tmp, ignore_errors=True)
    print("\nall checks passed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
