#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""
soak.py - randomized fault soak of nvme-core on QEMU's NVMe device model.

    tests/qemu/soak.py --kernel build/tests/qemu/x86_64/nvme-harness.elf --seeds 1-50
    tests/qemu/soak.py --arch aarch64 --smp 2 \\
        --kernel build/tests/qemu/aarch64/nvme-harness.img --seeds 100-110
    tests/qemu/soak.py --kernel ... --seeds 17 --keep /tmp/soak17   (replay one seed)

(kernels: cmake -DNVME_QEMU_TESTS=ON, target nvme-qemu-harness-<arch>.)
Not a ctest: random, and minutes long.  A seed fixes everything the driver
chooses (the image, blkdebug rules, controller and harness options, the
command list, the throttle lifts' delays); QEMU's timing does not repeat, so
a failing seed usually, not always, fails again.

Per seed, one boot through run.sh with ROUNDS rounds of:
  * verified I/O: whole 16 KiB slots written with a pattern key (wpat, the
    blocking call or "batch" on the CPU's queue) and read back (rpat);
  * faults: nvme_ctrl_reset; blkdebug EIO (or ENOSPC/EINVAL) on reads,
    writes and flushes at random sectors, once=on or repeating; throttling
    (block_set_io_throttle, IOPS or bytes/s low enough for the command
    timeout) set by a harness hook and lifted by this driver, on its own
    QMP socket, after a random delay; with more than one CPU smp-io on
    every CPU with resets from CPU 0; the last round may hot-unplug the
    controller under I/O (loop-io, a hotplug root port); Format NVM (then
    Compare against zeroes), ns-rescan; with --subsys, Namespace
    Attachment of a second namespace (attach/detach -> AER -> rescan) and
    I/O to it; with --chaos, this driver also throttles the drive at
    random moments of its own and lifts it again;
  * a health write and read on a slot no fault touches, check-irqs, stats.
Every command of a round is a "?" try (kernel/main.c): the harness prints its
result and this driver judges it afterwards, keeping per slot the keys its
blocks may hold (one after a successful write; old and new after a failed
one).  A seed FAILS when:
  * run.sh timed out or QEMU crashed (a hang: every wait is bounded), or
    the harness printed RESULT FAIL (check-irqs, fini);
  * a read of a slot whose content is certain returned success with other
    data (rpat MISMATCH) -- data the core said was written is lost or wrong;
  * at the end the host image holds, in some block, neither the last key
    written successfully nor (after failures) one of the keys tried since;
  * a health write/read (no fault on its slot, throttle lifted) failed:
    the controller did not come back after the fault;
  * one command took longer than --cmd-bound seconds;
  * nvme_ctrl_fini left DMA or heap memory in use.
Known and only noted (--strict-irq fails them): with INTx, a reset after a
timeout (CC.EN=0 while QEMU still holds a command) can leave QEMU 7.2's
INTx asserted for good, and the harness masks the line after 100000
unclaimed interrupts.  Also noted: writes failing under a flush rule
(cache=writethrough flushes after each write), and a namespace QEMU leaves
in "Format In Progress" after a Format that failed.
Exit status: 0 every seed clean, 1 some seed failed (logs kept), 2 bad use.
"""
import argparse
import os
import random
import re
import shutil
import socket
import struct
import subprocess
import sys
import tempfile
import threading
import time
import json

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from check import pat_word  # noqa: E402  (kernel/main.c pat_word())
SLOT_BYTES = 16384
NSLOTS = 48
IMG_BYTES = 32 << 20


_pat_cache = {}


def pat_block(key, lba, lbs):
    if key == 0:  # what Format leaves
        return bytes(lbs)
    k = (key, lba, lbs)
    if k not in _pat_cache:
        _pat_cache[k] = struct.pack("<%dI" % (lbs // 4), *(pat_word(key, lba, j) for j in range(lbs // 4)))
    return _pat_cache[k]


def qmp_send(path, cmd, timeout=10.0):
    """One HMP command line through QMP; returns (ok, text)."""
    try:
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        s.settimeout(timeout)
        s.connect(path)
        f = s.makefile("rwb", buffering=0)

        def reply():
            while True:
                line = f.readline()
                if not line:
                    raise EOFError("closed")
                m = json.loads(line)
                if "event" not in m:
                    return m
        reply()
        f.write(b'{"execute": "qmp_capabilities"}\n')
        reply()
        f.write((json.dumps({"execute": "human-monitor-command",
                             "arguments": {"command-line": cmd}}) + "\n").encode())
        r = reply()
        s.close()
        if "error" in r:
            return False, str(r["error"])
        return not r.get("return", "").lower().startswith("error"), r.get("return", "")
    except (OSError, EOFError, ValueError) as e:
        return False, "qmp: %s" % e


class Seed:
    """Everything one seed chooses, and the analysis of its log."""

    def __init__(self, args, seed, work):
        self.args, self.seed, self.work = args, seed, work
        r = self.rng = random.Random("%s:%d" % (args.arch, seed))
        self.lbs = r.choice([512, 512, 512, 4096])
        self.spb = SLOT_BYTES // self.lbs           # blocks per slot
        self.nblocks = IMG_BYTES // self.lbs
        self.health_lba = (1 << 20) // self.lbs     # 1 MiB: no fault rule reaches it
        self.smp_lba = (2 << 20) // self.lbs
        self.loop_lba = (8 << 20) // self.lbs
        self.ncpu = args.smp if args.smp else r.choice([1, 2, 4])
        self.irq = r.choice(["msix", "msix", "intx", "poll"])
        self.timeout_ms = r.choice([300, 400, 700, 1500])
        self.mdts = r.choice([None, 2, 3, 5])
        self.qdepth = r.choice([None, None, 4, 16, 64])
        self.unplug = r.random() < args.unplug
        # a second namespace, detached, in an nvme-subsys: attach/detach
        # (Namespace Attachment -> AER -> rescan) mixed with the rest
        self.subsys = r.random() < args.subsys
        if self.subsys:  # QEMU 7.2 segfaults at device_del of a controller in an nvme-subsys
            self.unplug = False
        # blkdebug rules (sector numbers are 512-byte sectors)
        self.rules = []
        slot_sectors = NSLOTS * SLOT_BYTES // 512
        for _ in range(r.randint(0, 4)):
            kind = r.choice(["read", "write", "write", "flush"])
            # a repeating flush rule fails every write (cache=writethrough
            # flushes after each): rare, or nothing else gets tested
            once = r.random() < (0.85 if kind == "flush" else 0.5)
            errno = r.choice([5, 5, 5, 28, 22])
            sector = None if kind == "flush" else r.randrange(slot_sectors)
            self.rules.append((kind, sector, once, errno))
        self.rule_slots = sorted({x[1] * 512 // SLOT_BYTES for x in self.rules if x[1] is not None})
        self.thr_hooks = []
        for i in range(3):
            if r.random() < 0.5:
                iops = r.choice([1, 2, 5, 20])
                self.thr_hooks.append(("thr%d" % i, "block_set_io_throttle nsdrv0 0 0 0 %d 0 0" % iops))
            else:
                bps = r.choice([4096, 16384, 65536])
                self.thr_hooks.append(("thr%d" % i, "block_set_io_throttle nsdrv0 %d 0 0 0 0 0" % bps))
        self.lift_delays = [r.uniform(0.2, 3.0) for _ in range(64)]
        # chaos: this driver throttles the drive at random moments on its
        # own (not at a harness hook) and lifts it again
        self.chaos = r.random() < args.chaos
        self.chaos_plan = [(r.uniform(0.3, 2.0), r.choice([1, 2, 5, 20, 50]), r.uniform(0.2, 1.5))
                           for _ in range(200)]
        self.img = os.path.join(work, "soak.img")
        self.key = 1000
        # per slot: the keys each block of it may hold
        self.init_keys = [r.randrange(1, 1 << 31) for _ in range(NSLOTS)]
        self.cmds = self.plan()

    def slot_lba(self, s):
        return s * self.spb

    def plan(self):
        r, a = self.rng, self.args
        cmds = []
        for rnd in range(a.rounds):
            # The harness takes 128 items (run.sh's options among them) and
            # fails a longer list: no round starts that might not fit (one
            # is at most 24 items; 10 kept for options and the ending).
            if len(cmds) + 24 + 10 > 128:
                print("soak: %d of %d rounds: the harness takes 128 items" % (rnd, a.rounds),
                      file=sys.stderr)
                break
            cmds.append("echo soak: round %d" % rnd)
            for _ in range(r.randint(4, 10)):
                op = r.choices(["w", "r", "reset", "thr", "flush", "smp", "service", "regs", "fmt",
                                "rescan"],
                               [6, 6, 1.5, 1.2, 1, 1 if self.ncpu > 1 and self.lbs == 512 else 0,
                                0.5, 0.2, 0 if self.chaos or any(x[0] == "flush" for x in self.rules)
                                else 0.3, 0.3])[0]
                if self.subsys and r.random() < 0.25:
                    op = r.choice(["att", "det", "w2", "w2", "r2", "r2"])
                if op in ("w", "r"):
                    s = r.randrange(NSLOTS)
                    if self.rule_slots and r.random() < 0.4:  # where the rules are
                        s = r.choice(self.rule_slots)
                    n = self.spb if r.random() < 0.8 else r.randint(1, self.spb)
                    batch = " batch" if r.random() < 0.3 else ""
                    if op == "w":
                        self.key += 1
                        cmds.append("?wpat 1 %d %d %d%s" % (self.slot_lba(s), n, self.key, batch))
                        if n < self.spb:    # keep slots whole: write the rest too
                            cmds.append("?wpat 1 %d %d %d" % (self.slot_lba(s) + n, self.spb - n, self.key))
                    else:
                        cmds.append("?rpat 1 %d %d @%d%s" % (self.slot_lba(s), n, s, batch))
                elif op == "reset":
                    cmds.append("?reset")
                elif op == "thr":
                    cmds.append("?hook %s" % r.choice(self.thr_hooks)[0])
                elif op == "flush":
                    cmds.append("?flush -n 1")
                elif op == "smp":
                    cmds.append("?smp-io 1 %d 64 %d %d" % (self.smp_lba, r.randint(1, 3), r.randint(0, 2)))
                elif op in ("att", "det"):
                    cmds.append("?ns-%s 2" % ("attach" if op == "att" else "detach"))
                    cmds.append("?wait-event ns-changed 3000")
                elif op == "w2":
                    self.key += 1
                    cmds.append("?wpat 2 %d 8 %d" % (8 * r.randrange(16), self.key))
                elif op == "r2":
                    cmds.append("?rpat 2 %d 8 @ns2" % (8 * r.randrange(16)))
                elif op == "fmt":
                    # Format NVM (whole namespace to zeroes) in the format in use
                    # (QEMU 7.2: LBA format 0 is 512 bytes, 4 is 4096)
                    cmds.append("?format -n 1 --lbaf %d --force" % (0 if self.lbs == 512 else 4))
                elif op == "rescan":
                    cmds.append("?ns-rescan")
                elif op == "service":
                    cmds.append("?service %d" % r.randint(1, 5))
                else:
                    cmds.append("?regs")
            self.key += 1
            cmds.append("?wpat 1 %d %d %d" % (self.health_lba, self.spb, self.key))
            cmds.append("?rpat 1 %d %d %d" % (self.health_lba, self.spb, self.key))
            cmds.append("?stats")
        if self.unplug:
            cmds.append("?loop-io 1 %d 4096 3000 unplug" % self.loop_lba)
            cmds.append("?rpat 1 %d 1 0" % self.health_lba)
        else:
            cmds.append("check-irqs")
        return cmds

    def blkdebug_cfg(self):
        out = []
        for kind, sector, once, errno in self.rules:
            ev = {"read": "read_aio", "write": "write_aio", "flush": "flush_to_disk"}[kind]
            out.append("[inject-error]\nevent = \"%s\"\niotype = \"%s\"\nerrno = \"%d\"\n%sonce = \"%s\"\n"
                       % (ev, kind, errno, "" if sector is None else "sector = \"%d\"\n" % sector,
                          "on" if once else "off"))
        return "\n".join(out)

    def describe(self):
        return ("subsys=%d chaos=%d lbs=%d cpus=%d irq=%s timeout=%d mdts=%s qdepth=%s unplug=%s rules=%s thr=%s"
                % (self.subsys, self.chaos, self.lbs, self.ncpu, self.irq, self.timeout_ms, self.mdts, self.qdepth,
                   self.unplug, self.rules, [h[1].split(" ", 2)[2] for h in self.thr_hooks]))

    def argv(self, qmp2):
        a = self.args
        with open(self.img, "wb") as f:
            f.truncate(IMG_BYTES)
            for s in range(NSLOTS):
                f.seek(self.slot_lba(s) * self.lbs)
                f.write(b"".join(pat_block(self.init_keys[s], self.slot_lba(s) + b, self.lbs)
                                 for b in range(self.spb)))
        ns = "path=%s" % self.img
        if self.lbs != 512:
            ns += ",lbs=%d" % self.lbs
        if self.rules:
            cfg = os.path.join(self.work, "blkdebug.cfg")
            with open(cfg, "w") as f:
                f.write(self.blkdebug_cfg())
            ns += ",blkdebug=%s,drive.werror=report,drive.rerror=report" % cfg
        argv = [os.path.join(HERE, "run.sh"), "--arch", a.arch, "--kernel", a.kernel, "--irq", self.irq,
                "--timeout", str(a.timeout), "--ns", ns, "--opt", "timeout=%d" % self.timeout_ms]
        if self.mdts is not None:
            argv += ["--ctrl", "mdts=%d" % self.mdts]
        if self.qdepth:
            argv += ["--opt", "qdepth=%d" % self.qdepth]
        if self.ncpu > 1:
            argv += ["--smp", str(self.ncpu), "--opt", "cpus=%d" % self.ncpu]
        if self.unplug:
            argv += ["--hotplug", "--hook", "unplug=device_del nvme0"]
        if self.subsys:
            ns2 = os.path.join(self.work, "ns2.img")
            with open(ns2, "wb") as f:
                f.truncate(8 << 20)
            argv += ["--subsys", "nqn.2026-12.io.nvmecore:soak", "--ns",
                     "path=%s,nsid=2,lbs=4096,detached=true" % ns2]
        for name, cmd in self.thr_hooks:
            argv += ["--hook", "%s=%s" % (name, cmd)]
        argv += ["--qemu", "-qmp", "--qemu", "unix:%s,server=on,wait=off" % qmp2]
        # rpat's "@SLOT" stands for the slot's key at that point of the run:
        # resolved below while the log is read, so the list has a placeholder
        # the harness must not see: use the key last tried on the slot.
        keys = list(self.init_keys)
        keys2 = {}
        out = []
        for c in self.cmds:
            m = re.match(r"\?wpat 1 (\d+) (\d+) (\d+)", c)
            if m and int(m.group(1)) < NSLOTS * self.spb:
                keys[int(m.group(1)) // self.spb] = int(m.group(3))
            m = re.match(r"\?wpat 2 (\d+) 8 (\d+)", c)
            if m:
                keys2[int(m.group(1))] = int(m.group(2))
            m = re.match(r"\?rpat 2 (\d+) 8 @ns2", c)
            if m:
                c = "?rpat 2 %s 8 %d" % (m.group(1), keys2.get(int(m.group(1)), 0))
                if keys2.get(int(m.group(1)), 0) == 0:
                    c = "?compare -n 2 -s %d -c 8 -p 0" % (int(m.group(1)))
            if c.startswith("?format"):
                keys = [0] * NSLOTS
            m = re.match(r"\?rpat 1 (\d+) (\d+) @(\d+)(.*)", c)
            if m and keys[int(m.group(3))] == 0:   # zeroes: the device compares
                c = "?compare -n 1 -s %s -c %s -p 0" % (m.group(1), m.group(2))
            elif m:
                c = "?rpat 1 %s %s %d%s" % (m.group(1), m.group(2), keys[int(m.group(3))], m.group(4))
            out.append(c)
        self.final_cmds = out
        argv.append("; ".join(out))
        return argv

    # ------------------------------------------------------------------
    def run(self):
        qmp2 = os.path.join(self.work, "q2.sock")
        argv = self.argv(qmp2)
        t0 = time.time()
        p = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        lines = []
        lifts = iter(self.lift_delays)
        timers = []

        def lift():
            ok, txt = qmp_send(qmp2, "block_set_io_throttle nsdrv0 0 0 0 0 0 0")
            lines.append("soak: throttle lifted at +%.2fs: %s %s" % (time.time() - t0, ok, txt.strip()))
        done = threading.Event()

        def chaos():
            for gap, iops, hold in self.chaos_plan:
                if done.wait(gap):
                    return
                ok, txt = qmp_send(qmp2, "block_set_io_throttle nsdrv0 0 0 0 %d 0 0" % iops)
                lines.append("soak: chaos throttle %d IOPS at +%.2fs: %s" % (iops, time.time() - t0, ok))
                if done.wait(hold):
                    return
                ok, txt = qmp_send(qmp2, "block_set_io_throttle nsdrv0 0 0 0 0 0 0")
                lines.append("soak: chaos lifted at +%.2fs: %s" % (time.time() - t0, ok))
        if self.chaos:
            threading.Thread(target=chaos, daemon=True).start()
        for raw in p.stdout:
            line = raw.decode(errors="replace").rstrip("\r\n")
            lines.append(line)
            if re.match(r"^run.sh: hook thr\d: .* -> ok", line):
                t = threading.Timer(next(lifts, 1.0), lift)
                t.daemon = True
                t.start()
                timers.append(t)
        rc = p.wait()
        done.set()
        for t in timers:
            t.cancel()
        self.took = time.time() - t0
        self.rc = rc
        self.log = "\n".join(lines) + "\n"
        return self.analyse()

    def analyse(self):
        bad, notes = [], []
        log = self.log
        if self.rc != 0:
            m = re.search(r"^run.sh: (TIMEOUT.*|CRASH.*|FAIL.*|QEMU.*)$", log, re.M)
            bad.append("run.sh status %s: %s" % (self.rc, m.group(1) if m else "?"))
        if not re.search(r"^harness: after nvme_ctrl_fini: .* dma in use 0, heap in use 0$", log, re.M):
            bad.append("nvme_ctrl_fini did not free everything (or was not reached)")
        if re.search(r"interrupts nobody claimed", log):
            # QEMU 7.2 keeps INTx asserted after a CC.EN=0 that found
            # completions in a CQ (a reset after a timeout): known, see the
            # report; --strict-irq makes it a failure
            (bad if self.args.strict_irq else notes).append("INTx storm: the harness masked the line")
        cand = [{self.init_keys[b // self.spb]} for b in range(NSLOTS * self.spb)]
        tries = re.findall(r"^harness: try '([^']*)' -> (-?\d+) \(([^)]*)\) (\d+) ms$", log, re.M)
        # what each try printed: the text between its "nvmectl> (try)" line and the result
        # (a MISMATCH makes rpat return NVME_ERR_PROTO, -10)
        chunks = re.split(r"(?m)^nvmectl> ", log)
        mismatch_for = {}
        for ch in chunks:
            if ch.startswith("(try) ") and "rpat: MISMATCH" in ch:
                mismatch_for.setdefault(ch.split("\n", 1)[0][6:], []).append(ch)

        def take(cmd):
            """The output of the next MISMATCH of `cmd` (identical commands in order)."""
            left = mismatch_for.get(cmd) or ["(no output)\n"]
            return left.pop(0)
        thr_active_until = -1
        cand2 = {}
        unplugged = False
        n_err = n_ok = 0
        for i, (cmd, rc, name, ms) in enumerate(tries):
            rc, ms = int(rc), int(ms)
            n_ok += rc == 0
            n_err += rc != 0
            if ms > self.args.cmd_bound * 1000:
                bad.append("'%s' took %d ms (> %d s)" % (cmd, ms, self.args.cmd_bound))
            if cmd.startswith("hook thr"):
                thr_active_until = i + 6
            if cmd.startswith("loop-io"):
                unplugged = True
            m = re.match(r"[wr]pat 1 (\d+) (\d+) ", cmd)
            if m and rc == 0:
                # a rule that fails every such I/O on a sector of the range:
                # success would be an error reported as success
                lo, hi = int(m.group(1)) * self.lbs // 512, (int(m.group(1)) + int(m.group(2))) * self.lbs // 512
                kind = "write" if cmd[0] == "w" else "read"
                hit = [x for x in self.rules if x[0] == kind and not x[2] and lo <= x[1] < hi]
                if hit:
                    bad.append("ERROR LOST: '%s' succeeded over sector %d, where blkdebug fails "
                               "every %s" % (cmd, hit[0][1], kind))
            m = re.match(r"wpat 1 (\d+) (\d+) (\d+)", cmd)
            if m:
                lba, n, key = int(m.group(1)), int(m.group(2)), int(m.group(3))
                if lba < NSLOTS * self.spb:
                    for b in range(lba, lba + n):
                        cand[b] = {key} if rc == 0 else cand[b] | {key}
                elif lba == self.health_lba and rc != 0 and not unplugged and not self.chaos:
                    # with cache=writethrough every write is followed by a
                    # flush: a flush rule makes writes fail (Write Fault)
                    flush_rule = any(x[0] == "flush" for x in self.rules)
                    (notes if flush_rule else bad).append("health write failed: '%s' -> %d (%s)"
                                                          % (cmd, rc, name))
                continue
            m = re.match(r"rpat 1 (\d+) (\d+) (\d+)", cmd)
            if m:
                lba, n, key = int(m.group(1)), int(m.group(2)), int(m.group(3))
                if lba < NSLOTS * self.spb:
                    certain = all(cand[b] == {key} for b in range(lba, lba + n))
                    if certain and rc == -10 and mismatch_for.get(cmd):
                        bad.append("DATA: '%s' read other data from blocks last written OK with key %d: %s"
                                   % (cmd, key, take(cmd).split("\n")[1:3]))
                    elif certain and rc != 0:
                        hit = [x for x in self.rules if x[0] == "read" and x[1] is not None
                               and lba * self.lbs // 512 <= x[1] < (lba + n) * self.lbs // 512]
                        if not hit and i > thr_active_until:
                            notes.append("read error with no read rule on it: '%s' -> %d (%s)" % (cmd, rc, name))
                    elif rc == -10:
                        take(cmd)
                elif lba == self.health_lba and not unplugged:
                    if rc == -10 and mismatch_for.get(cmd):
                        bad.append("DATA: health read '%s' read other data: %s"
                                   % (cmd, take(cmd).split("\n")[1:3]))
                    elif rc != 0 and not self.chaos:
                        bad.append("health read failed: '%s' -> %d (%s)" % (cmd, rc, name))
                continue
            m = re.match(r"wpat 2 (\d+) 8 (\d+)", cmd)
            if m:
                k = int(m.group(1))
                cand2[k] = {int(m.group(2))} if rc == 0 else cand2.get(k, {0}) | {int(m.group(2))}
                continue
            m = re.match(r"rpat 2 (\d+) 8 (\d+)", cmd)
            if m:
                if cand2.get(int(m.group(1)), {0}) == {int(m.group(2))} and rc == -10 and mismatch_for.get(cmd):
                    bad.append("DATA: '%s' on namespace 2 read other data than written: %s"
                               % (cmd, take(cmd).split("\n")[1:3]))
                elif rc == -10:
                    take(cmd)
                continue
            if cmd.startswith("ns-") or cmd.startswith("wait-event"):
                continue
            if cmd.startswith("format"):
                if rc != 0:
                    # QEMU 7.2 leaves a namespace whose Format failed in
                    # "Format In Progress" (84h): everything after fails
                    unplugged = True
                for b in range(NSLOTS * self.spb):
                    cand[b] = {0} if rc == 0 else cand[b] | {0}
                if rc != 0:
                    notes.append("'%s' -> %d (%s)" % (cmd, rc, name))
                continue
            m = re.match(r"compare -n 1 -s (\d+) -c (\d+) -p 0", cmd)
            if m:
                lba, n = int(m.group(1)), int(m.group(2))
                certain = all(cand[b] == {0} for b in range(lba, lba + n))
                if certain and rc > 0 and (rc & 0x7ff) == 0x285:
                    bad.append("DATA: '%s': Compare Failure on blocks Format zeroed" % cmd)
                elif certain and rc != 0:
                    notes.append("'%s' -> %d (%s)" % (cmd, rc, name))
                continue
            if cmd.startswith("smp-io") and rc != 0:
                excused = i <= thr_active_until or self.chaos or (
                    rc > 0 and any(x[0] == "flush" for x in self.rules))
                (notes if excused else bad).append("'%s' -> %d (%s)" % (cmd, rc, name))
        # the image: every slot block holds one of its candidate keys
        with open(self.img, "rb") as f:
            data = f.read()
        shown = 0
        for lba in range(NSLOTS * self.spb):
            blk = data[lba * self.lbs:(lba + 1) * self.lbs]
            if not any(blk == pat_block(k, lba, self.lbs) for k in cand[lba]):
                got = struct.unpack_from("<4I", blk)
                if shown < 4:
                    bad.append("IMAGE: LBA %d holds %s, none of keys %s"
                               % (lba, "key %d lba %d" % (got[1], got[2]) if got[0] == 0x504D564E
                                  else "no pattern", sorted(cand[lba])))
                shown += 1
        self.tries, self.n_ok, self.n_err = len(tries), n_ok, n_err
        st = re.findall(r"^stats: (.*)$", log, re.M)
        self.stats = st[-1] if st else "?"
        self.bad, self.notes = bad, notes
        return not bad


def parse_seeds(spec):
    out = []
    for part in spec.split(","):
        if "-" in part:
            a, b = part.split("-")
            out += list(range(int(a), int(b) + 1))
        else:
            out.append(int(part))
    return out


def main():
    ap = argparse.ArgumentParser(description="randomized fault soak on QEMU's NVMe controller")
    ap.add_argument("--arch", default="x86_64", choices=["x86_64", "i386", "aarch64", "riscv64", "armv7"])
    ap.add_argument("--kernel", required=True)
    ap.add_argument("--seeds", default="1-10", help="e.g. 1-50 or 3,7,9")
    ap.add_argument("--rounds", type=int, default=6)
    ap.add_argument("--smp", type=int, default=0, help="vCPUs, all started (cpus=N) (default: random 1/2/4)")
    ap.add_argument("--unplug", type=float, default=0.25, help="share of seeds ending in hot-unplug")
    ap.add_argument("--timeout", type=int, default=240, help="QEMU timeout per boot (s): a hang")
    ap.add_argument("--cmd-bound", type=int, default=40, help="longest one command may take (s)")
    ap.add_argument("--keep", help="work directory to keep (logs, image)")
    ap.add_argument("--stop", action="store_true", help="stop at the first failing seed")
    ap.add_argument("--subsys", type=float, default=0.3, help="share of seeds with a namespace to attach/detach")
    ap.add_argument("--chaos", type=float, default=0.4, help="share of seeds with random-time throttling")
    ap.add_argument("--strict-irq", action="store_true", help="an INTx storm fails the seed")
    args = ap.parse_args()
    if not os.path.exists(args.kernel):
        print("soak: no kernel %s" % args.kernel)
        return 2
    failed = []
    total_tries = 0
    for seed in parse_seeds(args.seeds):
        work = args.keep or tempfile.mkdtemp(prefix="nvme-soak-%d." % seed)
        if args.keep:
            work = os.path.join(args.keep, str(seed))
        os.makedirs(work, exist_ok=True)
        s = Seed(args, seed, work)
        ok = s.run()
        total_tries += s.tries
        with open(os.path.join(work, "serial.log"), "w") as f:
            f.write(s.log)
        print("seed %d: %s %.1fs tries=%d ok=%d err=%d | %s | stats %s"
              % (seed, "clean" if ok else "FAIL", s.took, s.tries, s.n_ok, s.n_err, s.describe(), s.stats))
        for n in s.notes:
            print("    note: %s" % n)
        for b in s.bad:
            print("    BAD: %s" % b)
        sys.stdout.flush()
        if ok and not args.keep:
            shutil.rmtree(work, ignore_errors=True)
        if not ok:
            failed.append(seed)
            print("    log kept: %s/serial.log" % work)
            if args.stop:
                break
    print("soak: %d seed(s) failed%s; %d commands tried" % (len(failed), (": " + " ".join(map(str, failed))) if failed else "",
                                                          total_tries))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
