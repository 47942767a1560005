#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""
check_barriers.py ARCH BUILD_DIR - the barrier instructions the aarch64,
riscv64 and armv7 harness builds must contain, read back from the objects with
objdump (QEMU's TCG does not reorder like hardware, so a boot cannot show
a missing barrier; the disassembly can):

  core qpair.o  nvme_qpair_process: the CQE read fence (nvme_dma_rmb)
                nvme_qpair_ring_locked: nvme_dma_wmb before the doorbell
                nvme_qpair_shadow: nvme_dma_mb (shadow doorbell, event index)
                nvme_qpair_cq_doorbell: nvme_dma_ldst (the consumed CQEs'
                loads before the head store; riscv "fence r,ow", also in
                nvme_qpair_process)
                no C11 fence left (arm64: inner shareable dmb ish*;
                riscv: fence r,rw / rw,w; armv7: see below)
  core ctrl.o   nvme_ctrl_handle_irq: nvme_dma_mb (the INTMS register store
                before the intx_hold load: riscv "fence iorw,iorw", which
                objdump prints as a bare "fence"; "fence rw,rw" orders
                no device I/O)
  core io.o     the fast path inlined: nvme_read/nvme_write both fences
                (and riscv's nvme_dma_ldst),
                nvme_submit_rw nvme_dma_wmb; no C11 fence
  osal_min.o    mmio_write32: the writel barrier before the store
                mmio_read32: the load, then the readl barrier
Exit status 0 when every check holds.

armv7: nvme_dma_rmb and nvme_dma_mb are both "dmb osh", nvme_dma_wmb "dmb
oshst" (ARMv7 has no load-only dmb); writel is "dsb st" then the store,
readl the load then "dsb" (objdump: "dsb sy").  GCC's ARMv7 atomics carry
"dmb ish" themselves, the same instruction a C11 fence gives, so no
"dmb ish" can be forbidden there; only "dmb ishst", which no atomic emits.
Barriers match whole mnemonics ("dmb osh" is not "dmb oshst").
"""
import re
import subprocess
import sys

WANT = {
    "aarch64": dict(objdump="aarch64-linux-gnu-objdump", rmb="dmb\toshld", ldst="dmb\toshld", wmb="dmb\toshst",
                    wr_bar="dmb\toshst", wr=r"^str\tw", rd=r"^ldr\tw", rd_bar="dmb\toshld",
                    mb="dmb\tosh", forbidden=["dmb\tishld", "dmb\tish", "dmb\tishst"]),
    "riscv64": dict(objdump="riscv64-linux-gnu-objdump", rmb="fence\tr,r", ldst="fence\tr,ow", wmb="fence\tw,w",
                    wr_bar="fence\tw,o", wr=r"^sw\t", rd=r"^lw\t", rd_bar="fence\ti,ir",
                    mb="fence", forbidden=["fence\tr,rw", "fence\trw,w"]),
    "armv7": dict(objdump="arm-linux-gnueabihf-objdump", rmb="dmb\tosh", ldst="dmb\tosh", wmb="dmb\toshst",
                  wr_bar="dsb\tst", wr=r"^str\t", rd=r"^ldr\t", rd_bar="dsb\tsy",
                  mb="dmb\tosh", forbidden=["dmb\tishst"]),
}


def is_insn(text, insn):
    """text (objdump's instruction column) is insn, operands included:
    'dmb\tosh' matches 'dmb\tosh' but not 'dmb\toshst'."""
    if "\t" not in insn:  # no operands ("fence": iorw,iorw): that one only
        return text == insn or text.startswith(insn + " ")
    return text == insn or text.startswith(insn + " ") or text.startswith(insn + "\t")


def functions(objdump, path):
    """{function: [instruction text, ...]} (local .L labels stay in their function)."""
    out = subprocess.run([objdump, "-d", "--no-show-raw-insn", path], stdout=subprocess.PIPE,
                         check=True).stdout.decode()
    funcs, cur = {}, None
    for line in out.splitlines():
        m = re.match(r"^[0-9a-f]+ <([^>]+)>:$", line)
        if m:
            if not m.group(1).startswith(".L"):
                cur = m.group(1)
                funcs[cur] = []
            continue
        m = re.match(r"^\s+[0-9a-f]+:\s+(.*)$", line)
        if m and cur:
            funcs[cur].append(m.group(1).strip())
    return funcs


def main():
    arch, build = sys.argv[1], sys.argv[2]
    w = WANT[arch]
    fails = []

    def ok(cond, what):
        print(("  ok    " if cond else "  FAIL  ") + what)
        if not cond:
            fails.append(what)

    q = functions(w["objdump"], "%s/core/qpair.o" % build)
    every = [i for f in q.values() for i in f]

    def in_func(name, insn, what):
        # the function with the parts GCC may split off it (name.part.0,
        # name.isra.0, ...); the core's hot path may be renamed: then
        # anywhere in qpair.o
        parts = [f for f in q if f == name or f.startswith(name + ".")]
        body = [i for f in parts for i in q[f]] if parts else None
        where = "+".join(parts) if parts else "qpair.o (no %s)" % name
        ok(any(is_insn(i, insn) for i in (body if body is not None else every)),
           "%s has %s '%s'" % (where, what, insn.replace("\t", " ")))

    in_func("nvme_qpair_process", w["rmb"], "the CQE read fence (nvme_dma_rmb)")
    in_func("nvme_qpair_ring_locked", w["wmb"], "nvme_dma_wmb")
    in_func("nvme_qpair_shadow", w["mb"], "nvme_dma_mb")
    in_func("nvme_qpair_cq_doorbell", w["ldst"], "nvme_dma_ldst")
    if w["ldst"] != w["rmb"]:  # riscv: its own instruction, so seen apart
        in_func("nvme_qpair_process", w["ldst"], "nvme_dma_ldst")
    for bad in w["forbidden"]:
        ok(not any(i == bad or i.startswith(bad + " ") for i in every),
           "qpair.o has no '%s' (a C11 fence, not the DMA barrier)" % bad.replace("\t", " "))
    c = functions(w["objdump"], "%s/core/ctrl.o" % build)
    ok(any(is_insn(i, w["mb"]) for i in c.get("nvme_ctrl_handle_irq", [])),
       "ctrl.o nvme_ctrl_handle_irq has nvme_dma_mb '%s'" % w["mb"].replace("\t", " "))
    # The I/O fast path is inlined into io.c's public calls (nvme_internal.h):
    # the blocking ones submit and reap, nvme_submit_rw submits.
    io = functions(w["objdump"], "%s/core/io.o" % build)
    for name, need in (("nvme_read", ("rmb", "wmb", "ldst")), ("nvme_write", ("rmb", "wmb", "ldst")),
                       ("nvme_submit_rw", ("wmb",))):
        for b in need:
            ok(any(is_insn(i, w[b]) for i in io.get(name, [])),
               "io.o %s has nvme_dma_%s '%s'" % (name, b, w[b].replace("\t", " ")))
    for bad in w["forbidden"]:
        ok(not any(i == bad or i.startswith(bad + " ") for f in io.values() for i in f),
           "io.o has no '%s' (a C11 fence, not the DMA barrier)" % bad.replace("\t", " "))
    o = functions(w["objdump"], "%s/osal_min.o" % build)
    wr = o.get("mmio_write32", [])
    bar = next((k for k, i in enumerate(wr) if is_insn(i, w["wr_bar"])), None)
    st = next((k for k, i in enumerate(wr) if re.match(w["wr"], i)), None)
    ok(bar is not None and st is not None and bar < st,
       "mmio_write32: '%s' before the store (%s)" % (w["wr_bar"].replace("\t", " "), "; ".join(wr)))
    rd = o.get("mmio_read32", [])
    ld = next((k for k, i in enumerate(rd) if re.match(w["rd"], i)), None)
    bar = next((k for k, i in enumerate(rd) if is_insn(i, w["rd_bar"])), None)
    ok(bar is not None and ld is not None and ld < bar,
       "mmio_read32: the load, then '%s' (%s)" % (w["rd_bar"].replace("\t", " "), "; ".join(rd)))
    if fails:
        print("%d check(s) FAILED" % len(fails))
        return 1
    print("all checks passed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
