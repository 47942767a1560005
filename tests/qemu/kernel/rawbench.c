/* SPDX-License-Identifier: MIT */
/*
 * rawbench.c - the harness option `rawbench=IOS`: the device model's
 * ceiling, measured without libnvme-core (a benchmark, never a test).
 *
 * Before the core is brought up, this file drives the controller with the
 * least work a host can do: its own bring-up (§7.6.1), one I/O queue pair
 * (§5.3/§5.4), then 4 KiB random reads of NSID 1 kept QD deep: every new
 * command of a pass goes into the ring and the SQ tail doorbell is written
 * once; every completion found is counted (its status checked) and the CQ
 * head doorbell is written once.  No slot table, no deadlines, no locks,
 * no callbacks: what is left is what the device model costs.  With
 * irq=msix the CQ has MSI-X vector 1 and, like bench.c, the loop waits
 * halted (cli; check; sti; hlt) at depths above 1; the handler is the
 * harness's, which has no controller to hand it to and only counts it.
 * With irq=poll it spins.  bench/compare-linux.sh divides the harness's
 * IOPS by these at the same depth ("% of the device's ceiling").
 *
 * Output, one line per depth:
 *   rawbench: mode=qdN-raw qd=N irq=msix|poll ios=I us=T iops=X
 * or, for QD1 (IOS/4 reads) with IOS < 4: "rawbench: mode=qd1-raw qd=1 not run".
 * x86 only (like bench.c); identity-mapped memory, so the harness's
 * pointers are bus addresses.
 */
#include "rawbench.h"

#include "nvme/nvme_spec.h"

#define RB_ENTRIES 256u      /* I/O ring: QD128 fits with room to spare */
#define RB_STALL_US 5000000u /* a run fails after 5 s without a completion */

struct rb {
    uintptr_t bar;
    uint32_t dstrd;
    struct nvme_sqe *sq;
    volatile struct nvme_cqe *cq;
    uint16_t entries, tail, head;
    uint8_t phase;
    uint16_t qid;
    bool irq; /* wait halted for MSI-X vector 1 instead of spinning */
};

static void *rb_dma(const struct nvme_osal *o, size_t len, uint64_t *bus)
{
    void *p = o->dma_alloc(o->ctx, len, 4096, bus);
    if (p)
        memset(p, 0, len);
    return p;
}

/* CSTS.RDY == want within CAP.TO (§3.1.1). */
static bool rb_wait_rdy(const struct rb *r, uint32_t want, uint32_t to_ms)
{
    uint64_t until = clock_now_us() + (uint64_t)to_ms * 1000u;
    while ((mmio_rd32(r->bar + NVME_REG_CSTS) & NVME_CSTS_RDY) != want) {
        if (clock_now_us() > until)
            return false;
        cpu_relax();
    }
    return true;
}

static void rb_submit(struct rb *q, const struct nvme_sqe *e)
{
    q->sq[q->tail] = *e;
    q->tail = (uint16_t)((q->tail + 1u) % q->entries);
}

/* Next completion of q, or NULL (phase tag, §4.6). */
static volatile struct nvme_cqe *rb_peek(const struct rb *q)
{
    volatile struct nvme_cqe *c = &q->cq[q->head];
    return (c->status & 1u) == q->phase ? c : NULL;
}

static void rb_pop(struct rb *q)
{
    if (++q->head == q->entries) {
        q->head = 0;
        q->phase ^= 1u;
    }
}

/* One admin command, polled; its status field (0: success) or -1 late. */
static int rb_admin(struct rb *aq, struct nvme_sqe *e)
{
    e->cid = aq->tail;
    rb_submit(aq, e);
    barrier();
    mmio_wr32(aq->bar + NVME_SQ_TDBL(0, aq->dstrd), aq->tail);
    uint64_t until = clock_now_us() + 2000000u;
    volatile struct nvme_cqe *c;
    while ((c = rb_peek(aq)) == NULL) {
        if (clock_now_us() > until)
            return -1;
        cpu_relax();
    }
    int sf = c->status >> 1;
    rb_pop(aq);
    mmio_wr32(aq->bar + NVME_CQ_HDBL(0, aq->dstrd), aq->head);
    return sf;
}

/* IOS reads at depth qd on q; prints the line; false on an error. */
static bool rb_run(struct rb *q, unsigned qd, unsigned ios, uint64_t buf, uint64_t slots)
{
    if (ios == 0) { /* QD1 with IOS < 4: no figure for what did not run */
        kprintf("rawbench: mode=qd%u-raw qd=%u not run (0 reads)\n", qd, qd);
        return true;
    }
    uint64_t x = 0x9e3779b97f4a7c15ull;
    unsigned inflight = 0, submitted = 0, done = 0;
    struct nvme_sqe e;
    memset(&e, 0, sizeof(e));
    e.opc = NVME_CMD_READ;
    e.nsid = 1;
    e.prp1 = buf;
    uint64_t t0 = clock_now_us();
    uint64_t stall_end = t0 + RB_STALL_US;
    unsigned idle = 0;
    if (q->irq)
        harness_tick(true); /* every hlt ends within 1 ms, as in bench.c */
    while (done < ios) {
        unsigned n = 0;
        while (inflight < qd && submitted < ios) {
            x = x * 6364136223846793005ull + 1442695040888963407ull;
            uint64_t lba = ((x >> 33) % slots) * (4096u >> 9); /* 4 KiB of 512 B blocks */
            e.cid = q->tail;
            e.cdw10 = (uint32_t)lba;
            e.cdw11 = (uint32_t)(lba >> 32);
            e.cdw12 = (4096u >> 9) - 1u;
            rb_submit(q, &e);
            inflight++, submitted++, n++;
        }
        if (n) {
            barrier(); /* x86: stores are not reordered with the MMIO store */
            mmio_wr32(q->bar + NVME_SQ_TDBL(q->qid, q->dstrd), q->tail);
        }
        unsigned reaped = 0;
        volatile struct nvme_cqe *c;
        while ((c = rb_peek(q)) != NULL) {
            if (c->status >> 1) {
                kprintf("rawbench: read failed, status 0x%x\n", (unsigned)(c->status >> 1));
                done = ios + 1u; /* the error ends the run */
                break;
            }
            rb_pop(q);
            inflight--, done++, reaped++;
        }
        if (reaped) {
            mmio_wr32(q->bar + NVME_CQ_HDBL(q->qid, q->dstrd), q->head);
            stall_end = clock_now_us() + RB_STALL_US;
            idle = 0;
        } else if (++idle % 1024u == 0 && clock_now_us() > stall_end) {
            kprintf("rawbench: no completion for %u ms\n", RB_STALL_US / 1000u);
            done = ios + 1u;
        } else if (q->irq && qd > 1 && inflight == qd) {
            __asm__ volatile("cli" ::: "memory");
            if (rb_peek(q) == NULL)
                __asm__ volatile("sti; hlt" ::: "memory"); /* no wake-up slips in between */
            else
                __asm__ volatile("sti" ::: "memory");
        } else {
            cpu_relax();
        }
    }
    if (q->irq)
        harness_tick(false);
    if (done > ios)
        return false;
    uint64_t us = clock_now_us() - t0;
    kprintf("rawbench: mode=qd%u-raw qd=%u irq=%s ios=%u us=%llu iops=%llu\n", qd, qd,
            q->irq ? "msix" : "poll", ios, (unsigned long long)us,
            (unsigned long long)(us ? (uint64_t)ios * 1000000u / us : 0));
    return true;
}

bool rawbench_run(const struct harness_dev *d, const struct nvme_osal *o, unsigned ios)
{
    uint64_t cap = (uint64_t)mmio_rd32(d->bar0 + NVME_REG_CAP) |
                   (uint64_t)mmio_rd32(d->bar0 + NVME_REG_CAP + 4) << 32;
    uint32_t to_ms = NVME_CAP_TO(cap) * NVME_CAP_TO_UNIT_MS;
    struct rb aq = {.bar = d->bar0, .dstrd = NVME_CAP_DSTRD(cap), .entries = 8, .phase = 1};
    struct rb q = aq;
    q.entries = RB_ENTRIES;
    q.qid = 1;
    if (NVME_CAP_MQES(cap) + 1u < RB_ENTRIES) {
        kprintf("rawbench: CAP.MQES %u is below %u entries\n", NVME_CAP_MQES(cap), RB_ENTRIES);
        return false;
    }

    /* §7.6.1: disable, admin queue, enable (4 KiB pages, NVM command set). */
    mmio_wr32(d->bar0 + NVME_REG_CC, 0);
    if (!rb_wait_rdy(&aq, 0, to_ms))
        return false;
    uint64_t asq, acq, sq, cq, buf, id;
    aq.sq = rb_dma(o, 4096, &asq);
    aq.cq = rb_dma(o, 4096, &acq);
    q.sq = rb_dma(o, RB_ENTRIES * sizeof(struct nvme_sqe), &sq);
    q.cq = rb_dma(o, RB_ENTRIES * sizeof(struct nvme_cqe), &cq);
    void *data = rb_dma(o, 4096, &buf);
    void *idp = rb_dma(o, 4096, &id);
    if (!aq.sq || !aq.cq || !q.sq || !q.cq || !data || !idp)
        return false;
    mmio_wr32(d->bar0 + NVME_REG_AQA, (aq.entries - 1u) | ((aq.entries - 1u) << 16));
    mmio_wr32(d->bar0 + NVME_REG_ASQ, (uint32_t)asq);
    mmio_wr32(d->bar0 + NVME_REG_ASQ + 4, (uint32_t)(asq >> 32));
    mmio_wr32(d->bar0 + NVME_REG_ACQ, (uint32_t)acq);
    mmio_wr32(d->bar0 + NVME_REG_ACQ + 4, (uint32_t)(acq >> 32));
    mmio_wr32(d->bar0 + NVME_REG_CC, NVME_CC_EN | (6u << 16) | (4u << 20)); /* IOSQES, IOCQES */
    if (!rb_wait_rdy(&aq, NVME_CSTS_RDY, to_ms))
        return false;

    /* Identify Namespace 1 (CNS 00h): 4 KiB reads need 512-byte blocks. */
    struct nvme_sqe e;
    memset(&e, 0, sizeof(e));
    e.opc = NVME_ADMIN_IDENTIFY;
    e.nsid = 1;
    e.prp1 = id;
    const struct nvme_id_ns *ns = idp;
    if (rb_admin(&aq, &e) != 0)
        return false;
    uint8_t lbads = ns->lbaf[ns->flbas & 0xfu].lbads;
    if (lbads != 9 || ns->nsze < 4096u) {
        kprintf("rawbench: NSID 1 needs 512-byte blocks (LBADS %u) and 2 MiB\n", lbads);
        return false;
    }
    /* Number of Queues (§5.21.1.7), then the I/O CQ and SQ (§5.3, §5.4):
     * physically contiguous; the CQ on MSI-X vector 1 with irq=msix. */
    bool intx = false;
    q.irq = d->mode == IRQ_MODE_MSIX && o->irq_setup != NULL &&
            o->irq_setup(o->ctx, 2, &intx) >= 2 && !intx;
    memset(&e, 0, sizeof(e));
    e.opc = NVME_ADMIN_SET_FEATURES;
    e.cdw10 = 0x07;
    int rc = rb_admin(&aq, &e);
    memset(&e, 0, sizeof(e));
    e.opc = NVME_ADMIN_CREATE_CQ;
    e.prp1 = cq;
    e.cdw10 = 1u | (uint32_t)(RB_ENTRIES - 1u) << 16;
    e.cdw11 = q.irq ? 1u | 2u | 1u << 16 : 1u; /* PC=1, IEN, IV=1 */
    if (rc == 0)
        rc = rb_admin(&aq, &e);
    memset(&e, 0, sizeof(e));
    e.opc = NVME_ADMIN_CREATE_SQ;
    e.prp1 = sq;
    e.cdw10 = 1u | (uint32_t)(RB_ENTRIES - 1u) << 16;
    e.cdw11 = 1u | 1u << 16; /* PC=1, CQID 1 */
    if (rc == 0)
        rc = rb_admin(&aq, &e);
    if (rc != 0) {
        kprintf("rawbench: queue setup failed (status 0x%x)\n", (unsigned)rc);
        return false;
    }

    uint64_t slots = ns->nsze / (4096u >> 9);
    bool ok = rb_run(&q, 1, ios / 4u, buf, slots) && rb_run(&q, 32, ios, buf, slots) &&
              rb_run(&q, 128, ios, buf, slots);

    /* Normal shutdown (§7.6.2), then disable. */
    mmio_wr32(d->bar0 + NVME_REG_CC, mmio_rd32(d->bar0 + NVME_REG_CC) | NVME_CC_SHN_NORMAL);
    uint64_t until = clock_now_us() + (uint64_t)to_ms * 1000u;
    while ((mmio_rd32(d->bar0 + NVME_REG_CSTS) & NVME_CSTS_SHST_MASK) != NVME_CSTS_SHST_COMPLETE &&
           clock_now_us() < until)
        cpu_relax();
    mmio_wr32(d->bar0 + NVME_REG_CC, 0);
    return ok && rb_wait_rdy(&aq, 0, to_ms);
}
