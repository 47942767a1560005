/* SPDX-License-Identifier: MIT */
/*
 * sim_dbbuf.c - Doorbell Buffer Config (admin opcode 7Ch; NVMe 1.3 §5.7,
 * NVMe 2.0 base specification "Doorbell Buffer Config command"): shadow
 * doorbells and EventIdx, as QEMU's controller (hw/nvme/ctrl.c) does them.
 *
 * The host keeps each queue's SQ tail / CQ head in the Shadow Doorbell
 * buffer (PRP1) and rings the MMIO doorbell only when the new value passes
 * the EventIdx the controller left in the EventIdx buffer (PRP2).  Entry
 * of SQ y at byte 2y * (4 << CAP.DSTRD), of CQ y one stride further.
 *
 * The device reads and writes host memory here only through sim_dma_read /
 * sim_dma_write: the region table (a freed page is dma_after_return, memory
 * the OSAL never handed out a violation) and, in non-coherent mode, the
 * cache model (the device sees a shadow value only once the CPU cleaned
 * it; the CPU sees an EventIdx only after an invalidate).  The device never
 * writes the shadow buffer: the CPU writes single dwords there and cleans
 * whole lines, which would write stale bytes back over any device write.
 * Except with cfg.dbbuf_admin_copy, QEMU's admin queue hack: there the
 * device writes the admin entries at every admin MMIO doorbell and takes
 * the admin tail/head from them, so a host whose copy of that line is
 * stale when it cleans it has the device read old admin values.
 */
#include <string.h>

#include "sim_internal.h"

#define LOCK(sim) pthread_mutex_lock(&((struct nvme_sim *)(sim))->mtx)
#define UNLOCK(sim) pthread_mutex_unlock(&((struct nvme_sim *)(sim))->mtx)

/* Byte offset of entry (qid, cq) in both buffers, or false when the queue
 * has no entry: no configuration, the admin queue.  Past the first memory
 * page too: the command names no size, and QEMU indexes every queue so
 * (Linux sizes the buffers for all its queues); a host that gave one page
 * has the device read and write memory past it (a DMA violation). */
static bool entry(const struct nvme_sim *sim, uint16_t qid, bool cq, uint64_t *off)
{
    if (!sim->dbbuf.on || qid == 0 || qid >= sim->nq || qid >= SIM_DBBUF_MAXQ)
        return false;
    uint64_t stride = 4ull << sim->cfg.dstrd;
    *off = (2ull * qid + (cq ? 1u : 0u)) * stride;
    return true;
}

/* QEMU's admin queue hack is modelled and the buffers are configured. */
static bool admin_copy(const struct nvme_sim *sim)
{
    return sim->dbbuf.on && sim->cfg.dbbuf_admin_copy;
}

/* The entry the device reads a queue's tail/head from: an I/O queue's, or
 * with the admin hack the admin queue's (SQ 0 at byte 0, CQ 0 one stride
 * on; QEMU: db_addr of queue 0). */
static bool read_entry(const struct nvme_sim *sim, uint16_t qid, bool cq, uint64_t *off)
{
    if (qid == 0 && admin_copy(sim)) {
        *off = cq ? 4ull << sim->cfg.dstrd : 0;
        return true;
    }
    return entry(sim, qid, cq, off);
}

/* The device may touch host memory now (same conditions as SQ fetch). */
static bool dev_running(const struct nvme_sim *sim)
{
    return !sim->gone && !(sim->csts & NVME_CSTS_CFS) && (sim->csts & NVME_CSTS_RDY) &&
           !sim->dma_stopped;
}

static void ei_write(struct nvme_sim *sim, uint16_t qid, bool cq, uint64_t off, uint32_t val)
{
    unsigned idx = 2u * qid + (cq ? 1u : 0u);
    uint32_t v = sim->dbbuf.pinned[idx] ? sim->dbbuf.pin[idx] : val;
    if (sim_dma_write(sim, sim->dbbuf.ei + off, &v, sizeof(v), "EventIdx"))
        sim->st.eventidx_writes++;
}

static bool shadow_read(struct nvme_sim *sim, uint64_t off, uint32_t *v)
{
    return sim_dma_read(sim, sim->dbbuf.db + off, v, sizeof(*v), "shadow doorbell");
}

/* The admin hack's device write of an admin tail/head (QEMU: at each admin
 * MMIO doorbell, and for the existing queues at Doorbell Buffer Config).
 * Through sim_dma_write, so the cache model sees it; skipped when memory
 * holds the value already (QEMU writes it anyway: the same bytes, but the
 * model would take the CPU's equal copy of the line for a stale one). */
static void admin_write(struct nvme_sim *sim, bool cq, uint32_t val)
{
    uint64_t off;
    uint32_t cur;
    if (!read_entry(sim, 0, cq, &off) || !dev_running(sim))
        return;
    if (shadow_read(sim, off, &cur) && cur == val)
        return;
    (void)sim_dma_write(sim, sim->dbbuf.db + off, &val, sizeof(val), "admin shadow doorbell");
}

/* An invalid shadow value is a host error, counted once while it stays. */
static bool shadow_bad(struct nvme_sim *sim, unsigned idx, uint32_t v)
{
    if (sim->dbbuf.bad[idx] == v + 1u)
        return false;
    sim->dbbuf.bad[idx] = v + 1u;
    return true;
}

/*
 * Doorbell Buffer Config.  What QEMU's nvme_dbbuf_config checks and does:
 * PRP1 (Shadow Doorbell buffer) and PRP2 (EventIdx buffer) must both be
 * aligned to the memory page size, else Invalid Field in Command with DNR;
 * then it records both bases, marks shadow doorbells enabled (queues
 * created later get their entries at creation), points every existing
 * queue at its entries and stores the queue's current tail/head in its
 * shadow entry.  It does not check what the pages are.
 *
 * Here: the command needs OACS bit 8 (else Invalid Opcode, as the other
 * optional commands); the same alignment check; then, as an IOMMU would,
 * the device must be allowed to read the whole shadow page and write the
 * whole EventIdx page (else Data Transfer Error, like Create I/O CQ on
 * memory the OSAL never handed out).  Existing I/O queues keep their
 * device-side tail/head until the host stores a new value (the simulator
 * does not write the shadow page, see the top of this file); the admin
 * queue keeps its MMIO doorbells (nvme_sim.h), but with
 * cfg.dbbuf_admin_copy its tail and head are stored in its entries.  The state lasts until the
 * next controller reset (QEMU clears it in nvme_ctrl_reset).
 */
uint16_t sim_dbbuf_config(struct nvme_sim *sim, const struct nvme_sqe *sqe)
{
    if (!(sim->cfg.oacs & NVME_OACS_DBBUF))
        return SIM_SF_GEN(NVME_SC_INVALID_OPCODE);
    uint64_t page = sim->mps;
    if ((sqe->prp1 & (page - 1)) || (sqe->prp2 & (page - 1)))
        return SIM_SF_GEN(NVME_SC_INVALID_FIELD);
    if (!sim_dma_probe(sim, sqe->prp1, (size_t)page, "Shadow Doorbell buffer") ||
        !sim_dma_probe_write(sim, sqe->prp2, (size_t)page, "EventIdx buffer"))
        return (uint16_t)NVME_SF(NVME_SCT_GENERIC, NVME_SC_DATA_XFER_ERROR);
    sim->dbbuf.on = true;
    sim->dbbuf.db = sqe->prp1;
    sim->dbbuf.ei = sqe->prp2;
    memset(sim->dbbuf.pinned, 0, sizeof(sim->dbbuf.pinned));
    memset(sim->dbbuf.bad, 0, sizeof(sim->dbbuf.bad));
    sim->st.dbbuf_configs++;
    /* QEMU stores each existing queue's tail/head in its new entries; of
     * those, only the admin queue's are read back (see the top). */
    admin_write(sim, false, sim->sq[0].tail);
    admin_write(sim, true, sim->cq[0].head);
    return 0;
}

void sim_dbbuf_reset(struct nvme_sim *sim)
{
    sim->dbbuf.on = false;
    sim->dbbuf.db = sim->dbbuf.ei = 0;
    memset(sim->dbbuf.pinned, 0, sizeof(sim->dbbuf.pinned));
}

void sim_dbbuf_mmio(struct nvme_sim *sim, uint16_t qid, bool cq, uint32_t val)
{
    uint64_t off;
    if (qid == 0) { /* QEMU nvme_process_db: the admin value into its entry */
        admin_write(sim, cq, val);
        return;
    }
    if (sim->cfg.eventidx != NVME_SIM_EI_EVERY || !entry(sim, qid, cq, &off) || !dev_running(sim))
        return;
    ei_write(sim, qid, cq, off, val);
}

/* Take the SQ tail from the shadow entry (QEMU nvme_update_sq_tail). */
void sim_dbbuf_sq_tail(struct nvme_sim *sim, uint16_t qid)
{
    uint64_t off;
    uint32_t v;
    struct sim_sq *sq = &sim->sq[qid];
    if (!sq->live || !read_entry(sim, qid, false, &off) || !dev_running(sim) ||
        !shadow_read(sim, off, &v) || v == sq->tail)
        return;
    if (v >= sq->size || sim_sq_overrun(sq, v)) {
        if (shadow_bad(sim, 2u * qid, v))
            sim_host_error(sim, "SQ %u shadow tail %u: invalid (head %u, tail %u, size %u)", qid, v,
                           sq->head, sq->tail, sq->size);
        return;
    }
    sim->dbbuf.bad[2u * qid] = 0;
    sq->tail = v;
    sim->dbbuf.taken[2u * qid]++;
    sim->st.shadow_sq_values++;
}

/* The SQ is drained: EventIdx = head (QEMU nvme_update_sq_eventidx writes
 * the tail it had read, equal to the head now), then read the shadow tail
 * once more, so that a host that stored a new tail just before reading the
 * old EventIdx (and so skipped the MMIO write) is not missed. */
bool sim_dbbuf_sq_more(struct nvme_sim *sim, uint16_t qid)
{
    uint64_t off;
    struct sim_sq *sq = &sim->sq[qid];
    if (qid == 0 && admin_copy(sim) && dev_running(sim)) {
        sim_dbbuf_sq_tail(sim, 0); /* admin EventIdx: not modelled (the host ignores it) */
        return sq->head != sq->tail;
    }
    if (!entry(sim, qid, false, &off) || !dev_running(sim))
        return false;
    ei_write(sim, qid, false, off, sq->head);
    sim_dbbuf_sq_tail(sim, qid);
    return sq->head != sq->tail;
}

/* Before a CQE: EventIdx = the head the device knows, then the head from
 * the shadow entry (QEMU nvme_post_cqes: nvme_update_cq_eventidx, then
 * nvme_update_cq_head).  A head outside what the device posted is a host
 * error and is ignored, as the MMIO doorbell check does. */
void sim_dbbuf_cq_head(struct nvme_sim *sim, uint16_t cqid)
{
    uint64_t off;
    uint32_t v;
    struct sim_cq *cq = &sim->cq[cqid];
    if (!cq->live || !read_entry(sim, cqid, true, &off) || !dev_running(sim))
        return;
    if (cqid != 0) /* admin EventIdx: not modelled (the host ignores it) */
        ei_write(sim, cqid, true, off, cq->head);
    if (!shadow_read(sim, off, &v) || v == cq->head)
        return;
    uint32_t used = (cq->tail + cq->size - cq->head) % cq->size;
    uint32_t adv = (v + cq->size - cq->head) % cq->size;
    if (v >= cq->size || adv > used) {
        if (shadow_bad(sim, 2u * cqid + 1u, v))
            sim_host_error(sim, "CQ %u shadow head %u: invalid (head %u, tail %u, size %u)", cqid,
                           v, cq->head, cq->tail, cq->size);
        /* QEMU's nvme_update_cq_head takes the admin head as it reads it:
         * one moved back makes entries the host consumed look pending, and
         * the CQ full sooner (a completion withheld until the next CQ head
         * doorbell). */
        if (cqid != 0 || v >= cq->size)
            return;
    }
    sim->dbbuf.bad[2u * cqid + 1u] = 0;
    cq->head = v;
    sim_update_intx(sim); /* INTx level: the CQ may be empty now */
    sim->dbbuf.taken[2u * cqid + 1u]++;
    sim->st.shadow_cq_values++;
}

bool sim_dbbuf_cq_room(struct nvme_sim *sim, uint16_t cqid)
{
    struct sim_cq *cq = &sim->cq[cqid];
    sim_dbbuf_cq_head(sim, cqid);
    return (cq->tail + 1) % cq->size != cq->head;
}

/* --- Public accessors (nvme_sim.h) ---------------------------------------- */

uint64_t nvme_sim_shadow_doorbells(const struct nvme_sim *sim, uint16_t qid, bool cq)
{
    LOCK(sim);
    uint64_t n = qid < SIM_DBBUF_MAXQ ? sim->dbbuf.taken[2u * qid + (cq ? 1u : 0u)] : 0;
    UNLOCK(sim);
    return n;
}

bool nvme_sim_dbbuf_active(const struct nvme_sim *sim)
{
    LOCK(sim);
    bool on = sim->dbbuf.on;
    UNLOCK(sim);
    return on;
}

int nvme_sim_dbbuf_pin_eventidx(struct nvme_sim *sim, uint16_t qid, bool cq, int value)
{
    uint64_t off;
    int rc = -1;
    LOCK(sim);
    if (entry(sim, qid, cq, &off)) {
        unsigned idx = 2u * qid + (cq ? 1u : 0u);
        sim->dbbuf.pinned[idx] = false;
        if (value >= 0) {
            ei_write(sim, qid, cq, off, (uint32_t)value & 0xffffu);
            sim->dbbuf.pinned[idx] = true;
            sim->dbbuf.pin[idx] = (uint16_t)value;
        } else { /* back to what the device would have written by now */
            ei_write(sim, qid, cq, off, cq ? sim->cq[qid].head : sim->sq[qid].head);
        }
        rc = 0;
    }
    UNLOCK(sim);
    return rc;
}
