#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Writes the seed corpus of fuzz_device.c into tests/fuzz/corpus/.

    python3 tests/fuzz/make-seeds.py [OUTDIR]

Input layout (see the comment at the top of fuzz_device.c):
  16 header bytes | device stream (read forwards) | workload (read backwards,
  its length is header byte 15).
Device stream, per command the fake fetches, in fetch order:
  control byte c: < 0xC0 normal (completion after (c & 15) * 20 us);
                  >= 0xC0 then a flags byte f and, in this order:
                  f&01 status (u16) | f&02 CID xor (u16) | f&04 wrong phase |
                  f&08 SQID xor (u8) | f&10 SQHD (u16) | f&20 drop |
                  f&40 complete twice | f&80 DW0 (u32) + delay (u8, ms)
  then, for Identify / Get Log Page, a data byte d: < 0xF0: (d & 7) patches of
  (offset u16, value u8) on the template; >= 0xF0: raw bytes follow.
Bring-up fetches (ctrl.c nvme_ctrl_init): Identify Controller, Set Features
(Number of Queues), Create CQ + Create SQ per I/O queue, Set Features
(Asynchronous Event Configuration; + Host Behavior Support when the
controller has CRDT), then the namespaces: Active NS list (VS >= 1.1),
Identify Namespace per NSID; the Asynchronous Event Request last.
"""
import os
import re
import struct
import sys

# header offsets
REGS, MQES, OPTS, FAULTS, RDY_DELAY, NS, FAULT_AT_LO, FAULT_AT_HI, FAULT_KIND, \
    QUEUES, MDTS, NSZE, NQ_DW0, CRDT, MISC, WL_LEN = range(16)

# workload ops
OP_READ, OP_WRITE, OP_ASYNC, OP_FLUSH, OP_RESCAN, OP_SMART, OP_LOG, OP_IDENTIFY, \
    OP_RESET, OP_GETFEAT, OP_READY, OP_NOENT = range(12)


def ok(delay=0):
    return bytes([delay & 0x0f])


def fault(status=None, cid_xor=None, bad_phase=False, sqid_xor=None, sqhd=None,
          drop=False, dup=False, dw0=None, delay_ms=0):
    f = 0
    tail = b""
    if status is not None:
        f |= 0x01
        tail += struct.pack("<H", status)
    if cid_xor is not None:
        f |= 0x02
        tail += struct.pack("<H", cid_xor)
    if bad_phase:
        f |= 0x04
    if sqid_xor is not None:
        f |= 0x08
        tail += bytes([sqid_xor])
    if sqhd is not None:
        f |= 0x10
        tail += struct.pack("<H", sqhd)
    if drop:
        f |= 0x20
    if dup:
        f |= 0x40
    if dw0 is not None or delay_ms:
        f |= 0x80
        tail += struct.pack("<IB", dw0 or 0, delay_ms)
    return bytes([0xc0, f]) + tail


def data(*patches):
    """Template data with (offset, value) patches (at most 7)."""
    assert len(patches) <= 7
    out = bytes([len(patches)])
    for off, val in patches:
        out += struct.pack("<HB", off, val)
    return out


def raw(payload):
    return b"\xf0" + payload


def header(**kw):
    h = bytearray(16)
    for k, v in kw.items():
        h[globals()[k.upper()]] = v
    return h


def seed(hdr, dev=b"", wl=b""):
    hdr = bytearray(hdr)
    assert len(wl) < 256
    hdr[WL_LEN] = len(wl)
    return bytes(hdr) + dev + bytes(reversed(wl))


def bringup(ident_ctrl=None, ns_list=None, ident_ns=None, nsid_count=1, setfeat=None,
            cq=None, sq=None, queues=1, vs11=True, features=None):
    """Device bytes for a bring-up, up to the Asynchronous Event Request
    (the next command); each argument replaces one command's bytes
    (control + data); `features` those of the features a start sets
    (recovery.c nvme_configure_features: Asynchronous Event Configuration,
    one ok() by default).  Defaults are healthy.  The queues and features
    come before the namespaces, as LBAFEE must be set before they are
    read.  With VS 1.1 and later (the fake's 1.4) each namespace's
    Identify is followed by its Namespace Identification Descriptor list:
    the template has no NGUID or EUI64 (ns.c, nvme_ns_command_set)."""
    out = ident_ctrl if ident_ctrl is not None else ok() + data()
    out += setfeat if setfeat is not None else ok()
    for _ in range(queues):
        out += cq if cq is not None else ok()
        out += sq if sq is not None else ok()
    out += features if features is not None else ok()
    if vs11:
        out += ns_list if ns_list is not None else ok() + data()
    for i in range(nsid_count):
        out += ident_ns[i] if ident_ns and i < len(ident_ns) and ident_ns[i] is not None \
            else ok() + data()
        if vs11:
            out += ok() + data()
    return out


def cap(mqes=63, to=1, dstrd=0, css=1, mpsmin=0, mpsmax=0, cqr=1):
    return (mqes | cqr << 16 | to << 24 | dstrd << 32 | css << 37 | mpsmin << 48 |
            mpsmax << 52)


def fuzzed_regs(c, vs=0x10400):
    return struct.pack("<QI", c, vs)


# op OP_RESCAN + 12 v (v >= 1): a blocking call of many commands (v odd:
# while another CPU rescans): nvme_read, nvme_write, nvme_read_ext/_write_ext,
# op_nvm's calls, Write Uncorrectable (OP_SIDE: v odd; v + 1 without the rescan)
OP_SIDE = [OP_RESCAN + 12 * (1 + 2 * k) for k in range(5)]
# op OP_READY + 12 v, v odd: also every register (nvme_ctrl_regs_read)
OP_REGS = OP_READY + 12

# op OP_NOENT + 12 v (v 1..9): the calls beyond the I/O path (run_workload)
OP_MORE = {name: OP_NOENT + 12 * v for v, name in enumerate(
    ["service", "identify", "logs", "features", "nvm", "ext", "zns", "passthru", "mgmt", "misc"])}
MORE_ARGS = {"identify": 2, "logs": 2, "features": 2, "nvm": 3, "ext": 3, "zns": 3,
             "passthru": 3, "mgmt": 2, "misc": 1}


def more_ops(name, variants):
    """A workload of `name` ops, one per argument tuple in `variants`."""
    out = b""
    for args in variants:
        assert len(args) == MORE_ARGS[name]
        out += bytes([OP_MORE[name]]) + bytes(args)
    return out


ALL_OPS = bytes([OP_READ, 0, 5, 9, OP_WRITE, 0, 3, 1, OP_FLUSH, 0, OP_RESCAN, OP_SMART,
                 OP_LOG, 1, 8, OP_IDENTIFY, 1, 0, OP_GETFEAT, OP_READY])


def seeds():
    s = {}
    # --- healthy controllers
    s["healthy-default"] = seed(header())
    s["healthy-all-ops"] = seed(header(misc=7), wl=ALL_OPS)
    s["healthy-all-ops-traced"] = seed(header(misc=0x27, opts=0x2a, queues=1), bringup(queues=2),
                                       ALL_OPS)
    s["healthy-3ns-mixed-lba"] = seed(header(ns=0x22 | 0x04, misc=7),
                                      bringup(nsid_count=3),
                                      bytes([OP_READ, 1, 0x41, 7, OP_WRITE, 2, 0x7f, 3,
                                             OP_READ, 2, 0xff, 0xff, OP_ASYNC, 1, 0x0f,
                                             0x01, 0x82, 0x13, 0x99, 0x1c, 0x07, 0x88, 0x40]))
    s["healthy-4-queues-mdts1"] = seed(header(queues=3 | (6 << 2), mdts=1, nsze=5, misc=7),
                                       bringup(queues=4),
                                       bytes([OP_READ, 0, 0x3f, 1, OP_WRITE, 0, 0xff, 2,
                                              OP_ASYNC, 0, 0x1f, 0x07, 0x17, 0x27, 0x37, 0x47,
                                              0x57, 0x67, 0x77]))
    s["healthy-mmio64-dmastop-fw-enabled"] = seed(header(opts=7, rdy_delay=50), wl=ALL_OPS)
    s["healthy-msix-wait-wake"] = seed(header(opts=0x28, queues=3, misc=7), bringup(queues=4),
                                       ALL_OPS + bytes([OP_ASYNC, 0, 0x1f, 1, 2, 3, 4, 5, 6, 7, 8]))
    # OACS Doorbell Buffer Config (opts bit 7): shadow doorbells, EventIdx as seen
    s["healthy-shadow-doorbells"] = seed(header(opts=0xa8, queues=3, misc=7), bringup(queues=4),
                                         ALL_OPS + bytes([OP_ASYNC, 0, 0x1f, 1, 2, 3, 4, 5, 6]))
    s["healthy-shadow-doorbells-intx"] = seed(header(opts=0x98, queues=1, misc=5),
                                              bringup(queues=2), ALL_OPS)
    s["healthy-intx"] = seed(header(opts=0x18, queues=1, misc=5), bringup(queues=2),
                             bytes([OP_READ, 0, 3, 0, OP_ASYNC, 0, 0x0b, 1, 2, 3, 4]))
    s["msix-lost-interrupt"] = seed(header(opts=0x08, misc=3), bringup() + ok() + b"\x30\x30\x30",
                                    bytes([OP_READ, 0, 3, 0, OP_ASYNC, 0, 2, 1, 2, 3]))
    s["healthy-vs10-enumerate"] = seed(header(regs=0x20, ns=0x05), bringup(nsid_count=2, vs11=False),
                                       bytes([OP_READ, 1, 0, 0]))
    s["healthy-dstrd3-slow-ready"] = seed(header(regs=0x0c | 2, rdy_delay=200), wl=ALL_OPS)
    s["healthy-admin-4-entries"] = seed(header(misc=0x87, queues=0), wl=ALL_OPS + ALL_OPS[:8])
    s["healthy-page-8k"] = seed(header(regs=0xe0), fuzzed_regs(cap(mpsmin=1, mpsmax=2)) +
                                bringup(), bytes([OP_READ, 0, 0x3f, 0, OP_ASYNC, 0, 3, 1, 2, 3]))
    # every completion 300 us late: the bring-up's, the first read's
    slow = ok(15)
    s["healthy-slow-completions"] = seed(header(), bringup(ident_ctrl=slow + data(),
                                                           ns_list=slow + data(),
                                                           ident_ns=[slow + data()], setfeat=slow,
                                                           cq=slow, sq=slow, features=slow) +
                                         slow * 2,
                                         bytes([OP_READ, 0, 0x1f, 0]))
    s["healthy-reset-twice"] = seed(header(misc=3), wl=bytes([OP_RESET, OP_READ, 0, 1, 1,
                                                             OP_RESET, OP_WRITE, 0, 1, 1]))
    # --- bad registers
    s["bad-cap-mqes0"] = seed(header(regs=0xe0), fuzzed_regs(cap(mqes=0)))
    s["bad-cap-no-nvm"] = seed(header(regs=0xe0), fuzzed_regs(cap(css=0x40)))
    s["bad-cap-mpsmax-below-min"] = seed(header(regs=0xe0), fuzzed_regs(cap(mpsmin=2, mpsmax=1)))
    s["bad-cap-mpsmin-256k"] = seed(header(regs=0xe0), fuzzed_regs(cap(mpsmin=6, mpsmax=6)))
    s["bad-cap-to0-mqes1"] = seed(header(regs=0xe0), fuzzed_regs(cap(mqes=1, to=0)))
    s["bad-vs-ones"] = seed(header(regs=0xe0), fuzzed_regs(cap(), vs=0xffffffff))
    # --- start states and timed faults
    s["csts-noise-bits"] = seed(header(misc=0x0f), wl=ALL_OPS)
    s["csts-shst-reserved"] = seed(header(misc=0x17), wl=ALL_OPS)
    s["never-ready"] = seed(header(faults=0x81))
    s["never-ready-fw-enabled"] = seed(header(faults=0x81, opts=1))
    s["never-stops-dmastop"] = seed(header(faults=0x82, opts=5), wl=bytes([OP_RESET]))
    s["never-stops-after-bringup"] = seed(header(faults=0x82, misc=1), wl=bytes([OP_READ, 0, 1, 0, OP_RESET,
                                                                                OP_READ, 0, 1, 0]))
    s["never-stops-after-bringup-dmastop"] = seed(header(faults=0x82, opts=4, misc=1),
                                                  wl=bytes([OP_READ, 0, 1, 0, OP_RESET, OP_READ, 0, 1, 0]))
    s["shutdown-never-completes"] = seed(header(faults=0x84))
    s["shutdown-never-rtd3e-huge"] = seed(header(faults=0x84),
                                          ok() + data((88, 0xff), (89, 0xff), (90, 0xff), (91, 0xff)))
    s["gone-at-start"] = seed(header(faults=0x88))
    s["cfs-at-start"] = seed(header(faults=0x90, opts=1))
    s["cfs-during-io"] = seed(header(fault_at_lo=40, fault_kind=1, misc=5),
                              wl=bytes([OP_READ, 0, 0x3f, 0, OP_READ, 0, 1, 0, OP_RESET,
                                        OP_READ, 0, 1, 0]))
    s["gone-during-io"] = seed(header(fault_at_lo=40, fault_kind=2, misc=5),
                               wl=bytes([OP_READ, 0, 0x3f, 0, OP_ASYNC, 0, 1, 1, OP_RESET,
                                         OP_FLUSH, 0]))
    # gone in the first read (init is done at 1032 us simulated), back 1 ms later
    s["gone-and-back"] = seed(header(fault_at_lo=40, fault_kind=3, misc=7),
                              wl=bytes([OP_READ, 0, 0x3f, 0, OP_READ, 0, 1, 0, OP_RESET,
                                        OP_READ, 0, 1, 0, OP_RESET, OP_READ, 0, 1, 0]))
    s["gone-during-disable-settle"] = seed(header(opts=1, faults=0x81, fault_at_lo=200, fault_kind=2))
    s["gone-during-bringup"] = seed(header(fault_at_lo=100, fault_kind=2, rdy_delay=20))
    # --- completion queue entries
    # the bring-up, then the AER (no completion unless the input gives it
    # DW0): the next control byte is the first I/O command's
    first_io = bringup() + ok()
    s["bogus-cid-identify"] = seed(header(), fault(cid_xor=0x0100))
    s["bogus-cid-io"] = seed(header(), first_io + fault(cid_xor=0x0003), bytes([OP_READ, 0, 1, 0]))
    s["wrong-phase-identify"] = seed(header(), fault(bad_phase=True))
    s["wrong-phase-io"] = seed(header(), first_io + fault(bad_phase=True),
                               bytes([OP_ASYNC, 0, 2, 1, 2, 3]))
    s["wrong-sqid"] = seed(header(), bringup(ns_list=fault(sqid_xor=1)))
    s["wrong-sqhd"] = seed(header(), fault(sqhd=0xffff) + data() + fault(sqhd=7))
    s["lost-completion-identify"] = seed(header(), fault(drop=True))
    s["lost-completion-io"] = seed(header(), first_io + fault(drop=True),
                                   bytes([OP_READ, 0, 1, 0, OP_READ, 0, 1, 0]))
    s["lost-completion-async"] = seed(header(), first_io + ok() + fault(drop=True),
                                      bytes([OP_ASYNC, 0, 2, 1, 2, 3]))
    s["lost-completion-create-sq"] = seed(header(), bringup(sq=fault(drop=True)))
    s["late-completion-io"] = seed(header(), first_io + fault(delay_ms=60),
                                   bytes([OP_READ, 0, 2, 0, OP_WRITE, 0, 1, 0]))
    # Two reads, then two writes, of one block into one buffer, in flight
    # together (op 2 + 12: shared; the first without a doorbell, so one
    # ring fetches both): the first's unmap leaves the second its own mapping.
    s["async-shared-buffer"] = seed(header(), first_io + (ok(1) + ok(10)) * 2,
                                    bytes([OP_ASYNC + 12, 0, 0x01, 0x08, 0x00,
                                           OP_ASYNC + 12, 0, 0x01, 0x88, 0x80]))
    # A completion whose CID is a lie (the fake's bookkeeping, fuzz_device.c
    # lie_names): the first read's names a CID the next command gets (the
    # device takes that one as done when it fetches it), or the second of
    # two reads in flight names the first (done for the device at once).
    s["lie-cid-before-fetch"] = seed(header(), first_io + fault(cid_xor=16 ^ 32),
                                     bytes([OP_READ, 0, 1, 0] * 3))
    s["lie-cid-of-another-command"] = seed(header(), first_io + ok(3) + fault(cid_xor=16 ^ 17),
                                           bytes([OP_ASYNC, 0, 2, 1, 2, 3]))
    # twice: Identify Controller, Set Features Number of Queues, a read
    s["double-completion"] = seed(header(), bringup(ident_ctrl=fault(dup=True) + data(),
                                                    setfeat=fault(dup=True)) + ok() +
                                  fault(dup=True), bytes([OP_READ, 0, 1, 0, OP_READ, 0, 1, 0]))
    s["error-dnr-identify"] = seed(header(), fault(status=0x4002))
    s["error-identify-ns"] = seed(header(ns=1), bringup(nsid_count=2,
                                                        ident_ns=[fault(status=0x000b) + data()]))
    s["error-crd-retry-io"] = seed(header(crdt=1 | (3 << 2)),
                                   # + Set Features Host Behavior Support (ACRE: CRDT)
                                   bringup(features=ok() * 2) + ok() + fault(status=(1 << 11) | 0x06) +
                                   fault(status=0x0006),
                                   bytes([OP_READ, 0, 1, 0]))
    s["error-dnr-io"] = seed(header(), first_io + fault(status=0x4281), bytes([OP_READ, 0, 1, 0]))
    s["error-statuses-traced"] = seed(header(misc=0x23), first_io + fault(status=0x4281) +
                                      fault(status=0x2202, cid_xor=0x40) + fault(status=0x0305) +
                                      fault(status=0x0e06, dup=True),
                                      bytes([OP_READ, 0, 1, 0, OP_WRITE, 0, 1, 0, OP_READ, 0, 2, 0]))
    s["error-create-sq-fails"] = seed(header(queues=1), bringup(queues=2, sq=fault(status=0x4101)))
    s["error-set-features"] = seed(header(), bringup(setfeat=fault(status=0x4002)))
    s["nq-granted-one-of-four"] = seed(header(queues=3, nq_dw0=1), bringup(queues=1))
    s["nq-dw0-garbage"] = seed(header(queues=3), bringup(setfeat=fault(dw0=0xfffeffff)))
    # --- identify and log page data
    s["garbage-identify-ctrl"] = seed(header(), ok() + raw(bytes((i * 37 + 11) & 0xff for i in range(600))))
    s["identify-ctrl-bad-sqes"] = seed(header(), ok() + data((512, 0x77), (513, 0x22)))
    s["identify-ctrl-mdts-huge"] = seed(header(), ok() + data((77, 0xff)), bytes([OP_READ, 0, 0xff, 0]))
    s["huge-nn"] = seed(header(), ok() + data((519, 0xff), (518, 0xff)), bytes([OP_RESCAN]))
    # Vendor commands sent raw (workload op 9 + 12 * v, v odd: opcode
    # C0h | v >> 1): C1h (CSE in the effects log: a freeze) after a write,
    # C2h (NIC: a rescan), C0h (no effects).
    s["vendor-cse-nic-none"] = seed(header(misc=3), wl=bytes([OP_ASYNC, 0, 0, 0x81, OP_GETFEAT + 36,
                                                              OP_GETFEAT + 60, OP_GETFEAT + 12]))
    # Copy (workload op 3 + 12 * odd) of 10 + 6 blocks on MSSRL 4, MSRC 1
    # (2 ranges), MCL 4 (CRDT bits 4:2, 6:5; MDTS bits 6:3): four commands.
    s["copy-split"] = seed(header(crdt=(3 << 2) | (1 << 5), misc=3),
                           wl=bytes([OP_FLUSH + 12, 0, 1, 0, 9, 4, 5, 0]))
    # A controller that wants a Host Memory Buffer (OPTS bit 6): given at
    # bring-up, returned at each reset, taken back at fini.
    s["hmb-resets"] = seed(header(opts=0x40, misc=3), wl=bytes([OP_READ, 0, 1, 0, OP_RESET,
                                                               OP_READ, 0, 1, 0, OP_RESET]))
    s["huge-nn-vs10"] = seed(header(regs=0x20), ok() + data((517, 0x01)))  # NN 256, enumerated
    s["nlbaf-above-15"] = seed(header(), bringup(ident_ns=[ok() + data((25, 0x20))]),
                               bytes([OP_READ, 0, 0, 0]))
    s["flbas-past-nlbaf"] = seed(header(), bringup(ident_ns=[ok() + data((26, 0x05))]))
    s["lbads-out-of-range"] = seed(header(), bringup(ident_ns=[ok() + data((130, 30))]))
    # 1 MiB blocks: usable up to MDTS (4 MiB here), read and written
    s["large-lba-format"] = seed(header(), bringup(ident_ns=[ok() + data((130, 20))]),
                                 bytes([OP_READ, 0, 1, 0, OP_WRITE, 0, 1, 0]))
    s["lbads-64k"] = seed(header(), bringup(ident_ns=[ok() + data((130, 16))]),
                          bytes([OP_READ, 0, 1, 0, OP_ASYNC, 0, 0, 0]))
    s["nsze-zero"] = seed(header(), bringup(ident_ns=[ok() + data((0, 0), (1, 0))]))
    s["ncap-above-nsze"] = seed(header(), bringup(ident_ns=[ok() + data((15, 0x80))]))
    s["ns-metadata"] = seed(header(), bringup(ident_ns=[ok() + data((128, 8))]))
    s["ns-list-not-ascending"] = seed(header(ns=2), bringup(ns_list=ok() + data((0, 5), (4, 3))))
    s["ns-list-nsid-ffffffff"] = seed(header(), bringup(ns_list=ok() + raw(b"\xff\xff\xff\xff")))
    s["ns-list-full-page"] = seed(header(), bringup(ns_list=ok() + raw(
        b"".join(struct.pack("<I", i + 1) for i in range(1024)))))
    s["ns-list-above-nn"] = seed(header(), bringup(ns_list=ok() + data((0, 200))))
    s["smart-log-garbage"] = seed(header(misc=0), wl=bytes([OP_SMART, OP_LOG, 2, 255, OP_LOG, 3, 0]))
    # --- the calls beyond the I/O path, on a healthy device (11 calls each)
    more = {
        "identify": [(c, 0) for c in (0, 1, 2, 3, 4, 5, 6, 7, 8, 0x15, 0x1e, 0x25)],
        "logs": [(0, 1), (1, 0), (2, 0), (3, 0), (4, 0), (5, 0), (6, 9), (0x86, 40), (0x4d, 3),
                 (0xe6, 255), (0x0e, 1)],
        "features": [(c, 1) for c in (0, 5, 7, 8, 9, 11, 0x87, 0x88, 0x89, 0xb6, 0x1d)],
        "nvm": [(0, c, 3) for c in (0, 1, 2, 3, 4, 0x80 | 1, 0x80 | 2, 0x18, 0x21, 0x0c, 0x13)],
        "ext": [(0, c, b) for c, b in ((0, 0), (0x80, 1), (0x43, 0x40), (0xc1, 0x48), (7, 0x08),
                                       (0x86, 2), (1, 0x10), (0x81, 0x20), (2, 3), (0x82, 4),
                                       (5, 0))],
        "zns": [(0, c, 1) for c in (0, 1, 2, 0x81, 0x22, 0x04, 0x85, 0x60, 3, 5, 0x0d)],
        "passthru": [(0, c, b) for c, b in ((0, 1), (1, 2), (2, 0), (3, 3), (4, 8), (5, 0),
                                            (6, 0), (7, 0x10), (8, 0), (9, 0x19), (0x0b, 0))],
        "mgmt": [(c, b) for c, b in ((0, 0), (1, 0), (2, 0), (3, 5), (4, 1), (5, 2), (6, 0),
                                     (7, 0), (0x12, 0), (0x2d, 0), (8, 0))],
        "misc": [(c,) for c in range(11)],
    }
    for name, variants in more.items():
        s["healthy-more-" + name] = seed(header(misc=7, ns=0x01), wl=more_ops(name, variants))
    # command sets enabled (CAP.CSS 41h): the second namespace is zoned
    zns = more_ops("zns", [(1, c, b) for c, b in ((0, 0), (0x3c, 1), (1, 2), (0x81, 0), (2, 0),
                                                (0x22, 3), (0x0d, 0), (5, 1))])
    s["healthy-zoned"] = seed(header(regs=0xe0, ns=0x01, misc=7),
                              fuzzed_regs(cap(css=0x41)),
                              wl=zns + more_ops("identify", [(5, 2), (8, 1)]) +
                              bytes([OP_READ, 1, 0, 0]))
    # formats with metadata and protection information (Identify Namespace
    # patches: FLBAS 26, DPS 29, LBAF0.MS 128): interleaved, separate
    ext = more_ops("ext", [(0, c, b) for c, b in ((0, 0), (0x80, 0x40), (0x81, 0x38), (1, 0x78),
                                                (0xc2, 0x40), (0x42, 0x48), (3, 0))]) + \
        more_ops("nvm", [(0, 2, 0), (0, 4, 1), (0, 3, 0x40)]) + bytes([OP_READ, 0, 0, 0])
    s["pi-type1-extended"] = seed(header(misc=7), bringup(ident_ns=[ok() + data((26, 0x10), (29, 1),
                                                                                 (128, 8))]),
                                  wl=ext)
    s["pi-type3-separate-md"] = seed(header(misc=7), bringup(ident_ns=[ok() + data((29, 3),
                                                                                    (128, 8))]),
                                     wl=ext)
    s["md16-separate-no-pi"] = seed(header(misc=7), bringup(ident_ns=[ok() + data((128, 16))]),
                                    wl=ext)
    # an Asynchronous Event (Notice, Namespace Attribute Changed) that the
    # service call picks up, and the counters
    s["aer-ns-changed-service"] = seed(header(misc=3), bringup() +
                                       fault(dw0=0x00040002, delay_ms=0) + ok() + data(),
                                       wl=bytes([OP_MORE["service"], OP_MORE["service"],
                                                 OP_MORE["misc"], 4, OP_MORE["service"]]))
    for name, dw0 in (("smart", 0x00020101), ("error", 0x00010000), ("vendor-log", 0x00c00007)):
        s["aer-" + name + "-service"] = seed(header(misc=3), bringup() +
                                             fault(dw0=dw0, delay_ms=0) + ok() + data((0, 0xff)),
                                             wl=bytes([OP_MORE["service"], OP_MORE["service"],
                                                       OP_MORE["misc"], 4, OP_MORE["service"]]))
    # Reservation Log Page Available (LID 80h): pages read while their count
    # grows (the third repeats the second's: reads stop); a Persistent
    # Internal Error (a reset asked); Firmware Activation Starting.
    s["aer-resv-notification-service"] = seed(
        header(misc=3), bringup() + fault(dw0=0x00800006, delay_ms=0) +
        ok() + data((0, 1), (8, 1), (9, 2), (12, 1)) + ok() + data((0, 2), (8, 7), (9, 1)) +
        ok() + data((0, 2), (9, 1)),
        wl=bytes([OP_MORE["service"], OP_MORE["service"], OP_MORE["misc"], 4,
                  OP_MORE["service"]]))
    for name, dw0 in (("persistent-error", 0x00010300), ("fw-activation", 0x00030102)):
        s["aer-" + name + "-service"] = seed(header(misc=3), bringup() +
                                             fault(dw0=dw0, delay_ms=0) + ok() + data((0, 0xff)),
                                             wl=bytes([OP_MORE["service"], OP_MORE["service"],
                                                       OP_MORE["misc"], 4, OP_MORE["service"]]))
    # Another CPU's rescan while a blocking call of many commands waits
    # (op 4 + 12 v, v odd: side_call in fuzz_device.c): it fires at the
    # sleep after 1 + (s & 7) I/O completions, here in the second command's
    # wait (its completion 2 ms late), and the rescan's Identify Namespace
    # says NSZE grew (patch at byte 1): the namespace epoch moves under
    # the call, which checks again and goes on with the same block size.
    # 512-byte blocks, MDTS 8 KiB, one I/O queue of 2 entries: a 64-block
    # nvme_read is 4 pieces, one at a time (nvme_rw_recheck).
    side = ok() + fault(delay_ms=2) + ok() + data() + ok() + data((1, 0x20))
    s["side-rescan-read-pieces"] = seed(header(mdts=1, queues=1 << 2, nsze=2), bringup() + ok() +
                                        side, bytes([OP_SIDE[0], 0, 0, 0x3f, 0]))
    # nvme_read_ext of 8 blocks of 4096 bytes, 2 a piece (nvm_data_recheck)
    s["side-rescan-read-ext-pieces"] = seed(header(mdts=1, queues=1 << 2, nsze=2, ns=0x10),
                                            bringup() + ok() + side,
                                            bytes([OP_SIDE[2], 0, 0, 7, 0]))
    # nvme_write of 64 blocks while the other CPU's service call takes a
    # Namespace Attribute Changed event the device posted 1 ms after
    # bring-up (Changed Namespace List, rescan)
    s["side-service-ns-changed-write"] = seed(
        header(mdts=1, queues=1 << 2, nsze=2),
        bringup() + fault(dw0=0x00040002, delay_ms=1) + ok() + fault(delay_ms=2) + ok() +
        data() + ok() + data() + ok() + data((1, 0x20)), bytes([OP_SIDE[1], 8, 0, 0x3f, 0]))
    # Write Uncorrectable (ONCS bit 1) of 64 blocks in commands of 16: WUSL
    # 1 (8 KiB) in the NVM Identify Controller (CNS 06h, byte 2), which the
    # core reads with command sets enabled (CAP.CSS 41h); the rescan's
    # CNS 02h, 00h, 05h (nvm_exec_built, nvm_data_recheck)
    ident = ok() + data()
    s["side-rescan-write-uncorrectable-wusl"] = seed(
        header(regs=0xe0), fuzzed_regs(cap(css=0x41)) + ident * 2 + ok() + data((2, 1)) +
        ok() * 4 + ident * 3 + ok() + side + ident, bytes([OP_SIDE[4], 0, 0, 0x3f, 0]))
    # Header byte 8 bits 7:5 010b: CAP.MQES 1 (2 entries) after the reset
    # and back at the next.  8 asynchronous reads on a 16-entry queue, the
    # first completion lost, the others 100 ms late: all time out, the
    # Aborts come back "not aborted", the reset finds one slot for eight
    # commands, so seven wait for one (nvme_qpair_set_entries,
    # nvme_qpair_unpark); then every register read (nvme_ctrl_regs_read),
    # a reset (MQES 63 again) and a read.
    s["mqes-shrinks-replays-wait-for-a-slot"] = seed(
        header(fault_kind=2 << 5, misc=1),
        bringup() + ok() + fault(drop=True) + fault(delay_ms=100) * 7,
        bytes([OP_ASYNC, 0, 7, 0, 1, 2, 3, 4, 5, 6, 7, OP_REGS, OP_RESET, OP_READ, 0, 0x3f, 0]))
    return s


# fuzz_nvmectl.c: its command table (cmds[]) and each command's option
# words, read from the C file so seed indices never drift from it.
def ctl_table():
    src = open(os.path.join(os.path.dirname(os.path.abspath(__file__)), "fuzz_nvmectl.c")).read()
    body = src[src.index("} cmds[] = {"):]
    body = body[:body.index("};")]
    return re.findall(r'\{"([^"]+)", "([^"]*)"\}', body)


CTL_TABLE = ctl_table()
CTL_CMDS = [name for name, _ in CTL_TABLE]


def ctl_opt(cmd, opt):
    """Index of option word `opt` ("-n", "-b!") in cmd's entry of cmds[]."""
    return dict(CTL_TABLE)[cmd].split().index(opt)


def v_ns():
    return bytes([3])  # an NSID the controller has


def v_dec(n):
    return bytes([0, n])  # a small decimal number


def v_list(*nums):
    return bytes([5 | (len(nums) - 1) << 3]) + bytes(nums)


def v_int(i, hexa=False):
    return bytes([2 | (8 if hexa else 0) | i << 4])  # fuzz_nvmectl.c interesting[i]


def v_word(i):
    return bytes([4 | i << 3])  # fuzz_nvmectl.c words[i]


def ctl_line(cmd, opts=(), json=False, buf=0):
    """One nvmectl line: opts are (option index, value bytes or b"" for a flag)."""
    out = bytes([CTL_CMDS.index(cmd), len(opts) | (8 if json else 0) | buf << 5])
    for sel, val in opts:
        out += bytes([sel]) + val
    return out


def nvmectl_seeds():
    s = {}
    lines = {
        "identify": [ctl_line("info"), ctl_line("id-ctrl", [(0, b"")]),
                     ctl_line("id-ns", [(0, v_ns()), (1, b"")]), ctl_line("id-ctrl", json=True)],
        "namespaces": [ctl_line("list", json=True), ctl_line("ns-descs", [(0, v_ns())]),
                       ctl_line("list-ns", [(0, v_dec(1))]), ctl_line("id-ns", [(0, v_ns())],
                                                                      json=True)],
        "logs": [ctl_line("smart-log", [(1, b"")]), ctl_line("error-log", [(0, v_dec(4))]),
                 ctl_line("fw-log"), ctl_line("effects-log", json=True)],
        "logs-more": [ctl_line("self-test-log"), ctl_line("sanitize-log", json=True),
                      ctl_line("changed-ns-list-log"),
                      ctl_line("get-log", [(0, v_dec(2)), (1, v_dec(64))])],
        "features": [ctl_line("get-feature", [(0, v_dec(6)), (5, b"")]),
                     ctl_line("get-feature", [(0, v_dec(14))], json=True),
                     ctl_line("set-feature", [(0, v_dec(6)), (1, v_dec(1))]),
                     ctl_line("get-feature", [(0, v_dec(12)), (1, v_word(6 - 3))])],
        "io": [ctl_line("write", [(0, v_ns()), (1, v_dec(0)), (2, v_dec(2)), (3, v_dec(0x5a))]),
               ctl_line("read", [(0, v_ns()), (1, v_dec(0)), (2, v_dec(2))]),
               ctl_line("write-verify", [(0, v_ns()), (1, v_dec(4))]),
               ctl_line("flush", [(0, v_ns())], json=True)],
        "nvm": [ctl_line("dsm", [(0, v_ns()), (1, v_list(0, 8)), (2, v_list(1, 2)), (3, b"")]),
                ctl_line("write-zeroes", [(0, v_ns()), (1, v_dec(3)), (2, v_dec(2))]),
                ctl_line("verify", [(0, v_ns()), (1, v_dec(0))]),
                ctl_line("compare", [(0, v_ns()), (1, v_dec(0)), (3, v_dec(0))])],
        "mgmt": [ctl_line("device-self-test", [(1, v_word(6))]),
                 ctl_line("fw-download", [(2, v_dec(1)), (3, v_dec(64))]),
                 ctl_line("fw-commit", [(0, v_dec(1)), (1, v_dec(1)), (3, b"")]),
                 ctl_line("format", [(0, v_ns()), (6, b"")])],
        "passthru": [ctl_line("admin-passthru", [(0, v_dec(6)), (2, v_dec(0x40)), (5, v_dec(1))]),
                     ctl_line("io-passthru", [(0, v_dec(2)), (1, v_ns()), (2, v_dec(0x80))]),
                     ctl_line("admin-passthru", [(0, v_dec(0xc0)),
                                                        (ctl_opt("admin-passthru", "-s!"), b"")],
                              json=True),
                     ctl_line("list-ctrl")],
        # reservations (ONCS bit 5), the Persistent Event Log, create-ns -b 4096
        "resv": [ctl_line("resv-register", [(0, v_ns()), (2, v_dec(0x10))]),
                 ctl_line("resv-acquire", [(0, v_ns()), (1, v_dec(0x10)), (3, v_dec(1))]),
                 ctl_line("resv-report", [(0, v_ns())]),
                 ctl_line("resv-report", [(0, v_ns()), (ctl_opt("resv-report", "-e!"), b"")],
                          json=True)],
        "pel": [ctl_line("persistent-event-log", [(0, v_dec(1))]),
                ctl_line("persistent-event-log", [(0, v_dec(0))]),
                ctl_line("persistent-event-log", [(0, v_dec(0))], json=True),
                ctl_line("persistent-event-log", [(0, v_dec(2))])],
        "create-ns": [ctl_line("create-ns", [(0, v_dec(64)),
                                             (ctl_opt("create-ns", "-b"), v_int(14))]),
                      ctl_line("resv-release", [(0, v_ns()), (1, v_dec(0x10))]),
                      ctl_line("list-ns", [(ctl_opt("list-ns", "-a!"), b"")]),
                      ctl_line("get-feature", [(0, v_dec(12)), (5, b"")])],
        # get-feature -H decodes every feature it names (FIDs 1-Eh, 16h),
        # supported capabilities, the data structures (APST, Timestamp)
        "features-decoded": [ctl_line("get-feature", [(0, v_dec(f)), (5, b"")])
                             for f in (1, 2, 4, 5)],
        "features-decoded-more": [ctl_line("get-feature", [(0, v_dec(f)), (5, b"")])
                                  for f in (7, 8, 11, 14)],
        "features-structures": [ctl_line("get-feature", [(0, v_dec(12)), (5, b"")]),
                                ctl_line("get-feature", [(0, v_dec(22)), (5, b"")]),
                                ctl_line("get-feature", [(0, v_dec(6)), (1, v_word(5))]),
                                ctl_line("get-feature", [(0, v_dec(6)), (1, v_word(5))],
                                         json=True)],
        # Write Uncorrectable: -c 0-based (two blocks), then the default one
        "write-uncor": [ctl_line("write-uncor", [(0, v_ns()), (1, v_dec(8)), (2, v_dec(1))]),
                        ctl_line("write-uncor", [(0, v_ns())], json=True),
                        ctl_line("read", [(0, v_ns()), (1, v_dec(8)), (2, v_dec(2))])],
        # JSON of the raw page, identifiers, sensors
        "logs-json": [ctl_line("get-log", [(0, v_dec(2)), (1, v_dec(64))], json=True),
                      ctl_line("ns-descs", [(0, v_ns())]),
                      ctl_line("ns-descs", [(0, v_ns())], json=True),
                      ctl_line("smart-log", json=True)],
        # -o json of the commands whose -b takes a value (not -b, the raw
        # page): their JSON is checked too (fuzz_nvmectl.c's not_json)
        "json-b-value": [ctl_line("dsm", [(0, v_ns()), (1, v_list(0, 8)), (2, v_list(1, 2)),
                                          (3, b"")], json=True),
                         ctl_line("copy", [(0, v_ns()), (1, v_dec(32)), (2, v_list(0, 8)),
                                           (3, v_list(1, 2))], json=True),
                         ctl_line("create-ns", [(0, v_dec(64)),
                                                (ctl_opt("create-ns", "-b"), v_int(14))],
                                  json=True),
                         ctl_line("fw-commit", [(0, v_dec(1)), (1, v_dec(1)), (2, v_dec(0)),
                                                (3, b"")], json=True)],
    }
    for name, ls in lines.items():
        s["healthy-" + name] = seed(header(misc=3, ns=0x01), wl=b"".join(ls))
    zns = [ctl_line("report-zones", [(0, v_ns()[:0] + bytes([3 | 1 << 3]))]),
           ctl_line("zone-mgmt-send", [(0, bytes([3 | 1 << 3])), (1, v_dec(0)), (2, v_word(12))]),
           ctl_line("zone-append", [(0, bytes([3 | 1 << 3])), (1, v_dec(0)), (3, v_dec(7))]),
           ctl_line("report-zones", [(0, bytes([3 | 1 << 3]))], json=True)]
    s["healthy-zoned"] = seed(header(regs=0xe0, ns=0x01, misc=3), fuzzed_regs(cap(css=0x41)),
                              wl=b"".join(zns))
    # Device data the printers must survive: one namespace, no AERs (misc
    # 0x40), so the device stream after bring-up is the lines' commands.
    odd = {
        # firmware slots with text and bytes that are not
        "fw-slots": ([ctl_line("fw-log"), ctl_line("fw-log", json=True)],
                     ok() + data((0, 0x12), (8, 0x41), (9, 0x01), (15, 0x7f), (16, 0x80)) +
                     ok() + data((48, 0x22), (49, 0x5c))),
        # error entries with statuses, then an Identify asking for 256
        "error-entries": ([ctl_line("error-log", [(0, v_dec(2))]),
                           ctl_line("error-log", [(0, v_dec(255))], json=True)],
                          ok() + data() + ok() + data((0, 3), (12, 0x05), (13, 0x44), (64, 1)) +
                          ok() + data((262, 0xff))),
        # self-test results in use, a changed list saying "more than 1024"
        "self-test-changed": ([ctl_line("self-test-log"), ctl_line("changed-ns-list-log"),
                               ctl_line("self-test-log", json=True)],
                              ok() + data((4, 0x17), (6, 0x0f), (32, 0x2f)) +
                              ok() + data((0, 0xff), (1, 0xff), (2, 0xff), (3, 0xff)) +
                              ok() + data((4, 0x28), (6, 0x03))),
        # Identify Controller: control bytes in SN, NPSS past 31, a SUBNQN
        # (a control byte and a backslash before its NUL)
        "id-ctrl-odd": ([ctl_line("id-ctrl", [(0, b"")]), ctl_line("id-ctrl", json=True)],
                        ok() + data((4, 0x01), (24, 0x7f), (263, 40), (768, 0x22)) +
                        ok() + data((768, 0x01), (769, 0x5c), (64, 0x09))),
    }
    # Persistent Event Log -a 0: the header, the log (Total Log Length
    # bytes), the header again (Generation Number compared).  Counts and
    # lengths that lie: events past the log, an event header too short,
    # 4 billion events.
    pel = ctl_line("persistent-event-log", [(0, v_dec(0))])
    pel_json = ctl_line("persistent-event-log", [(0, v_dec(0))], json=True)
    odd.update({
        "pel-event-lengths": ([pel, pel_json],
                              (ok() + data() + ok() +
                               data((7, 0xff), (512 + 22, 0xff), (512 + 23, 0xff)) +
                               ok() + data()) * 2),
        "pel-event-header": ([pel, pel_json],
                             (ok() + data() + ok() + data((512 + 40 + 2, 0), (4, 0xfe)) +
                              ok() + data()) * 2),
        "pel-log-length": ([pel, pel_json],
                           ok() + data((8, 0xff), (9, 0xff), (10, 0xff), (11, 0xff)) +
                           ok() + data((8, 0x01), (9, 0x02))),
        # Feature values with every bit set: the -H decoders (Dword 0 from
        # the completion, the APST and Timestamp structures patched)
        "feature-values": ([ctl_line("get-feature", [(0, v_dec(f)), (5, b"")])
                            for f in (1, 4, 7, 8)],
                           b"".join(fault(dw0=0xffffffff) for _ in range(4))),
        "feature-structures": ([ctl_line("get-feature", [(0, v_dec(12)), (5, b"")]),
                                ctl_line("get-feature", [(0, v_dec(14)), (5, b"")]),
                                ctl_line("get-feature", [(0, v_dec(11)), (5, b"")])],
                               fault(dw0=0xffffffff) + data((3, 0xff), (255, 0xff), (250, 0x80)) +
                               fault(dw0=1) + data((5, 0xff), (6, 0xff), (7, 0xff)) +
                               fault(dw0=0x3ff)),
        # smart-log: every sensor, a temperature of 0 K and 65535 K
        "smart-sensors": ([ctl_line("smart-log"), ctl_line("smart-log", json=True)],
                          ok() + data((1, 0), (2, 0), (200, 0xff), (201, 0xff), (214, 1), (215, 1)) +
                          ok() + data((1, 0xff), (2, 0xff), (202, 0x10), (212, 0x20))),
        # Sanitize Status: every SSTAT state, reserved ones, all bits set
        "sanitize-states": ([ctl_line("sanitize-log"), ctl_line("sanitize-log"),
                             ctl_line("sanitize-log", json=True), ctl_line("sanitize-log")],
                            ok() + data((2, 1), (4, 0xff)) + ok() + data((2, 0x0a), (0, 0x80)) +
                            ok() + data((2, 0x1b), (3, 1)) + ok() + data((2, 0xff), (3, 0xff))),
        # more than 1024 namespaces changed, in JSON; a Copy that succeeds
        "changed-more-copy": ([ctl_line("changed-ns-list-log", json=True),
                               ctl_line("copy", [(0, v_ns()), (1, v_dec(32)), (2, v_list(0, 8)),
                                                 (3, v_list(1, 2))])],
                              ok() + data((0, 0xff), (1, 0xff), (2, 0xff), (3, 0xff))),
        # Reservation Report: REGCTL past the transfer, in both formats
        "resv-regctl": ([ctl_line("resv-report", [(0, v_ns())]),
                         ctl_line("resv-report", [(0, v_ns()),
                                                  (ctl_opt("resv-report", "-e!"), b"")],
                                  json=True),
                         ctl_line("resv-report", [(0, v_ns()), (1, v_dec(5))])],
                        ok() + data((5, 0xff), (6, 0xff)) + ok() + data((5, 0x40), (64 + 2, 0xff)) +
                        ok() + data((5, 0x09))),
    })
    # The NVMe 2.0 printers: a Host-Initiated telemetry log of 3 blocks to
    # data area 3 (then the Controller-Initiated one with no data), the
    # supported log pages, an ANA log with two groups, a secondary
    # controller list claiming 255 entries, the I/O command set combinations
    odd.update({
        "telemetry": ([ctl_line("telemetry-log"),
                       ctl_line("telemetry-log", [(ctl_opt("telemetry-log", "-c!"), b"")],
                                json=True)],
                      ok() + data((8, 1), (10, 1), (12, 2), (381, 5)) + ok() + data((381, 5)) +
                      ok() + data((381, 5)) + ok() + data() + ok() + data()),
        "supported-logs-ana": ([ctl_line("supported-log-pages", [(0, b"")]),
                                ctl_line("ana-log"), ctl_line("ana-log", json=True)],
                               ok() + data((0, 1), (4, 3), (8, 0xff), (11, 0xff), (4 * 0x80, 1)) +
                               ok() + data((348, 2)) +
                               ok() + data((8, 2), (16, 1), (20, 2), (32, 3), (48, 1), (52, 2)) +
                               ok() + data() + ok() + data((348, 1)) +
                               ok() + data((8, 3), (16, 1), (20, 0xff), (32, 0x0f)) +
                               ok() + data()),
        "secondary-iocs": ([ctl_line("list-secondary"), ctl_line("id-iocs", [(1, b"")]),
                            ctl_line("primary-ctrl-caps", [(1, b"")]),
                            ctl_line("nvm-id-ns", [(0, v_ns()), (2, b"")])],
                           ok() + data((0, 0xff), (2, 1), (4, 3), (5, 0xff)) +
                           ok() + data((0, 7), (8, 3), (16, 0xff)) +
                           ok() + data((2, 0xff), (32, 0xff), (36, 0xff)) +
                           ok() + data((12, 0x80), (13, 0x02))),
        "endurance-nvm-id-ctrl": ([ctl_line("endurance-log", [(0, v_dec(1))]),
                                   ctl_line("nvm-id-ctrl"),
                                   ctl_line("endurance-log", [(0, v_dec(2))], json=True)],
                                  ok() + data((0, 0x01), (3, 0xff), (5, 0x64), (32, 0xff)) +
                                  ok() + data((0, 0xff), (1, 5), (4, 0xff)) +
                                  ok() + data((48, 0xff))),
    })
    for name, (ls, dev) in odd.items():
        s["odd-" + name] = seed(header(misc=0x43), bringup(features=b"") + dev, wl=b"".join(ls))
    return s


def write_seeds(out, blobs):
    os.makedirs(out, exist_ok=True)
    total = 0
    for name, blob in sorted(blobs.items()):
        with open(os.path.join(out, name), "wb") as f:
            f.write(blob)
        total += len(blob)
    print(f"{len(blobs)} seeds, {total} bytes in {out}")


def main():
    here = os.path.dirname(__file__)
    out = sys.argv[1] if len(sys.argv) > 1 else os.path.join(here, "corpus")
    write_seeds(out, seeds())
    # fuzz_nvmectl.c's seeds (the same device encoding, nvmectl lines as workload)
    write_seeds(sys.argv[2] if len(sys.argv) > 2 else os.path.join(here, "corpus-nvmectl"),
                nvmectl_seeds())


if __name__ == "__main__":
    main()
