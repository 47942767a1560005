/* SPDX-License-Identifier: MIT */
/*
 * qpair.c - submission/completion queue rings (NVMe 1.4 §4.1), doorbells
 * (§3.1.24-25), phase tags (§4.6), and the per-CID slot table.  The admin
 * queue and the I/O queues use this same code.  Rings only submit, reap
 * and report; deadlines, Abort and resets are recovery.c's.
 *
 * CIDs: the low bits index the slot table, the high bits carry a small
 * generation counter bumped on every (re)submission, so a duplicate or
 * stale completion from the device is caught instead of completing the
 * wrong command (Linux does the same with its "genctr").  A completion
 * that does not name a command in flight is logged and dropped: never an
 * out-of-bounds access.
 *
 * Apple's controllers (NVME_QUIRK_SHARED_TAGS, SKIP_CID_GEN) use the CID
 * as a tag across the admin queue and their one I/O queue and fail on a
 * collision or a tag beyond the I/O queue depth: there the CID is the
 * bare slot index, and the I/O queue's start at ctrl->tag_shared, above
 * every admin CID (Linux reserves the I/O queue's first 32 tags).
 */
#include "nvme_internal.h"

static size_t nvme_sq_bytes(const struct nvme_qpair *qp)
{
    return (size_t)qp->entries << qp->sqe_shift;
}

/* ------------------------------------------------------------------ */
/* Allocation                                                          */
/* ------------------------------------------------------------------ */

int nvme_qpair_alloc(struct nvme_ctrl *ctrl, struct nvme_qpair *qp, uint16_t qid, uint16_t entries)
{
    const struct nvme_osal *o = &ctrl->osal;

    nvme_memzero(qp, sizeof(*qp));
    qp->ctrl = ctrl;
    qp->qid = qid;
    qp->entries = entries;
    qp->ns_cache = &ctrl->ns_none;                             /* never NULL (io.c, nvme_io_ns) */
    qp->sqe_shift = qid == 0 ? NVME_SQES_LOG2 : ctrl->io_sqes; /* admin: 64 B (§3.1.5) */
    /* A full ring keeps one entry empty (§4.1.2); with shared tags the
     * first tag_shared CIDs are the admin queue's (caller sized entries). */
    qp->cid_base = qid != 0 ? ctrl->tag_shared : 0;
    qp->nslots = (uint16_t)(entries - 1u - qp->cid_base);
    /* CID = slot index | generation above it (nvme_cqe_slot drops an
     * entry of an older generation).  The index never all ones, so no CID
     * is FFFFh, which the Error Information log reserves (§5.14.1.1);
     * callers keep nslots below 4096, which leaves 4 generation bits. */
    qp->cid_bits = 1;
    while ((1u << qp->cid_bits) <= qp->nslots && qp->cid_bits < 16)
        qp->cid_bits++;
    qp->nslots_alloc = qp->nslots;
    qp->ring_entries = entries;
    qp->cid_idx_mask = (uint16_t)((1u << qp->cid_bits) - 1u);
    qp->cid_step = (uint16_t)(1u << qp->cid_bits);
    if (ctrl->quirks & NVME_QUIRK_SKIP_CID_GEN) {
        qp->cid_idx_mask = 0xffffu;
        qp->cid_step = 0;
    }
    qp->sq_tdbl = NVME_SQ_TDBL(qid, ctrl->dstrd);
    qp->cq_hdbl = NVME_CQ_HDBL(qid, ctrl->dstrd);

    /* Queue memory: physically contiguous and page aligned (ASQ/ACQ,
     * §3.1.9-3.1.10; Create I/O CQ/SQ PRP Entry 1 with PC=1, §5.3-5.4). */
    size_t sq_len = nvme_sq_bytes(qp);
    size_t cq_len = (size_t)entries * sizeof(struct nvme_cqe);
    qp->sq = o->dma_alloc(o->ctx, sq_len, ctrl->page_size, &qp->sq_bus);
    qp->cq = o->dma_alloc(o->ctx, cq_len, ctrl->page_size, &qp->cq_bus);
    qp->slots = o->mem_alloc(o->ctx, sizeof(*qp->slots) * qp->nslots);
    if (o->lock_create != NULL)
        qp->lock = o->lock_create(o->ctx);
    if (qp->sq == NULL || qp->cq == NULL || qp->slots == NULL ||
        (o->lock_create != NULL && qp->lock == NULL)) {
        nvme_qpair_free(qp);
        return NVME_ERR_NOMEM;
    }
    if ((qp->sq_bus | qp->cq_bus) & (ctrl->page_size - 1u)) {
        nvme_log(ctrl, NVME_LOG_ERROR, "OSAL dma_alloc returned unaligned queue memory");
        nvme_qpair_free(qp);
        return NVME_ERR_DMA;
    }
    nvme_memzero(qp->slots, sizeof(*qp->slots) * qp->nslots);
    qp->free_head = NVME_NO_SLOT;
    for (uint16_t i = qp->nslots; i-- > 0;) {
        qp->slots[i].cid = (uint16_t)(qp->cid_base + i); /* generation 0 */
        qp->slots[i].next_free = qp->free_head;
        qp->free_head = i;
    }
    nvme_qpair_reset_rings(qp);
    return NVME_OK;
}

void nvme_qpair_free(struct nvme_qpair *qp)
{
    struct nvme_ctrl *ctrl = qp->ctrl;
    if (ctrl == NULL)
        return;
    const struct nvme_osal *o = &ctrl->osal;
    nvme_prp_pool_free(qp);
    if (qp->sq != NULL) /* as allocated (nvme_qpair_set_entries may have made them fewer) */
        o->dma_free(o->ctx, qp->sq, (size_t)qp->ring_entries << qp->sqe_shift);
    if (qp->cq != NULL)
        o->dma_free(o->ctx, qp->cq, (size_t)qp->ring_entries * sizeof(struct nvme_cqe));
    if (qp->slots != NULL)
        o->mem_free(o->ctx, qp->slots, sizeof(*qp->slots) * qp->nslots_alloc);
    if (qp->lock != NULL)
        o->lock_destroy(o->ctx, qp->lock);
    nvme_memzero(qp, sizeof(*qp));
}

/* Exchanges two slots' commands; each slot keeps its CID (with shared
 * tags an I/O CID must stay below the queue's depth).  Lock held. */
static void nvme_slot_swap(struct nvme_qpair *qp, uint16_t a, uint16_t b)
{
    struct nvme_cmd_slot t;
    uint16_t cid_a = qp->slots[a].cid, cid_b = qp->slots[b].cid;
    nvme_memcpy(&t, &qp->slots[a], sizeof(t));
    nvme_memcpy(&qp->slots[a], &qp->slots[b], sizeof(t));
    nvme_memcpy(&qp->slots[b], &t, sizeof(t));
    qp->slots[a].cid = cid_a;
    qp->slots[b].cid = cid_b;
}

/* The REPLAY slot of [from, to) submitted first, or NVME_NO_SLOT. */
static uint16_t nvme_oldest_replay(const struct nvme_qpair *qp, uint16_t from, uint16_t to)
{
    uint16_t best = NVME_NO_SLOT;
    for (uint16_t i = from; i < to; i++)
        if (qp->slots[i].state == NVME_SLOT_REPLAY &&
            (best == NVME_NO_SLOT || (int32_t)(qp->slots[i].seq - qp->slots[best].seq) < 0))
            best = i;
    return best;
}

unsigned nvme_qpair_set_entries(struct nvme_qpair *qp, uint16_t entries)
{
    struct nvme_ctrl *ctrl = qp->ctrl;
    if (entries > qp->ring_entries)
        entries = qp->ring_entries;
    uint16_t n = (uint16_t)(entries - 1u - qp->cid_base); /* caller: entries >= cid_base + 2 */
    nvme_lock(qp);
    /* The oldest commands to replay go to the slots below n, which the
     * smaller queue holds: the oldest past n takes a free slot below, or
     * the place of the newest below when that one is newer. */
    for (;;) {
        uint16_t old = nvme_oldest_replay(qp, n, qp->nslots_alloc), to = NVME_NO_SLOT;
        if (old == NVME_NO_SLOT)
            break;
        for (uint16_t i = 0; i < n && (to == NVME_NO_SLOT || qp->slots[to].state != NVME_SLOT_FREE);
             i++) {
            const struct nvme_cmd_slot *s = &qp->slots[i];
            if (s->state == NVME_SLOT_FREE ||
                (s->state == NVME_SLOT_REPLAY &&
                 (to == NVME_NO_SLOT || (int32_t)(s->seq - qp->slots[to].seq) > 0)))
                to = i;
        }
        if (to == NVME_NO_SLOT || (qp->slots[to].state == NVME_SLOT_REPLAY &&
                                   (int32_t)(qp->slots[to].seq - qp->slots[old].seq) < 0))
            break; /* every one below n was submitted before every one past it */
        nvme_slot_swap(qp, old, to);
    }
    /* Those left past n wait for a slot (nvme_qpair_unpark), as Linux
     * requeues what a smaller queue cannot take; their deadline runs from
     * now (recovery.c, nvme_scan_queue). */
    uint16_t parked = 0;
    for (uint16_t i = n; i < qp->nslots_alloc; i++) {
        struct nvme_cmd_slot *s = &qp->slots[i];
        if (s->state != NVME_SLOT_REPLAY)
            continue;
        parked++;
        if (!(s->flags & NVME_SLOT_F_PARKED)) {
            /* A deadline of its own: a mark from before the reset is not
             * a wait for a slot (nvme_fail_parked). */
            s->flags = (uint8_t)((s->flags | NVME_SLOT_F_PARKED) & ~NVME_SLOT_F_TIMED_OUT);
            nvme_slot_deadline(ctrl, s, qp->timeout_ticks);
        }
    }
    /* The free list: the slots below n; those above stay out of it, for
     * a reset that gives the entries back. */
    qp->free_head = NVME_NO_SLOT;
    for (uint16_t i = n; i-- > 0;) {
        if (qp->slots[i].state != NVME_SLOT_FREE)
            continue;
        qp->slots[i].next_free = qp->free_head;
        qp->free_head = i;
    }
    qp->nslots = n;
    qp->entries = entries;
    NVME_WRITE_ONCE(qp->parked, parked); /* read unlocked: recovery.c nvme_fail_parked */
    nvme_unlock(qp);
    return parked;
}

void nvme_qpair_unpark(struct nvme_qpair *qp)
{
    struct nvme_ctrl *ctrl = qp->ctrl;
    /* Not into a queue a reset stopped (it sorts them again,
     * nvme_qpair_set_entries) nor one nvme_ctrl_fini deletes (they fail). */
    if (!qp->live || !NVME_READ_ONCE(ctrl->ready) || NVME_READ_ONCE(ctrl->stopping))
        return;
    while (qp->parked != 0 && qp->free_head != NVME_NO_SLOT) {
        uint16_t from = nvme_oldest_replay(qp, qp->nslots, qp->nslots_alloc);
        if (from == NVME_NO_SLOT) { /* (none: the count was wrong) */
            NVME_WRITE_ONCE(qp->parked, 0);
            break;
        }
        uint16_t to = qp->free_head;
        qp->free_head = qp->slots[to].next_free;
        nvme_slot_swap(qp, from, to); /* the free slot goes past nslots, off the list */
        NVME_WRITE_ONCE(qp->parked, (uint16_t)(qp->parked - 1u));
        qp->slots[to].retries++; /* a replay, as nvme_replay counts one */
        nvme_stat_inc(&ctrl->stats.replays);
        nvme_qpair_resubmit_locked(qp, to);
    }
    nvme_qpair_ring_locked(qp);
}

void nvme_qpair_reset_rings(struct nvme_qpair *qp)
{
    struct nvme_ctrl *ctrl = qp->ctrl;
    size_t cq_len = (size_t)qp->entries * sizeof(struct nvme_cqe);
    /* Under the lock: during a reset, other CPUs' submissions and polls
     * look at this queue (they find it not live and leave it alone). */
    nvme_lock(qp);
    /* Zeroed and cleaned once: the bytes past 64 of a 128-byte entry are
     * never written again. */
    nvme_memzero(qp->sq, nvme_sq_bytes(qp));
    nvme_dma_sync(ctrl, qp->sq, nvme_sq_bytes(qp), NVME_DMA_TO_DEVICE);
    /* The device may have written the CQ (a reset reuses it): invalidate
     * before the CPU writes it, then clean the zeroes before the device
     * may post (nvme_osal.h, non-coherent rules 3 and 4). */
    nvme_dma_sync(ctrl, qp->cq, cq_len, NVME_DMA_FROM_DEVICE);
    nvme_memzero(qp->cq, cq_len);
    nvme_dma_sync(ctrl, qp->cq, cq_len, NVME_DMA_TO_DEVICE);
    qp->sq_tail = qp->sq_tail_rung = 0;
    NVME_WRITE_ONCE(qp->cq_head, 0);
    NVME_WRITE_ONCE(qp->cq_head_rung, 0);
    qp->sdb_sq = qp->sdb_cq = NULL;
    qp->ei_sq = qp->ei_cq = NULL;
    NVME_WRITE_ONCE(qp->phase, 1); /* the controller posts its first lap with P=1 (§4.6) */
    qp->sqhd_warned = 0;
    NVME_WRITE_ONCE(qp->live, false);
    nvme_unlock(qp);
}

/* ------------------------------------------------------------------ */
/* Slots                                                               */
/* ------------------------------------------------------------------ */

/* Lock held.  The slot's buffer is unmapped here: only call this once the
 * device no longer owns it (completion consumed, or controller stopped). */
void nvme_slot_release(struct nvme_qpair *qp, uint16_t idx)
{
    struct nvme_cmd_slot *s = &qp->slots[idx];
    nvme_prp_release(qp, s);
    /* The words the fast path does not write (nvme_cmd_slot). */
    s->sqe_q[1] = s->sqe_q[2] = s->sqe_q[4] = s->sqe_q[7] = 0;
    s->state = NVME_SLOT_FREE;
    qp->outstanding--;
    if (__builtin_expect(idx >= qp->nslots, 0)) { /* parked: past the depth, off the list */
        NVME_WRITE_ONCE(qp->parked, (uint16_t)(qp->parked - 1u));
        return;
    }
    s->next_free = qp->free_head;
    qp->free_head = idx;
    if (__builtin_expect(qp->parked != 0, 0))
        nvme_qpair_unpark(qp);
}

static void nvme_qpair_finish(struct nvme_qpair *qp, uint16_t idx, int result, uint32_t dw0)
{
    struct nvme_cmd_slot *s = &qp->slots[idx];
    nvme_cmd_cb cb = s->cb;
    void *arg = s->arg;
    nvme_slot_release(qp, idx);
    if (cb != NULL) {
        /* Callbacks run unlocked: they may submit the next command. */
        uint32_t *depth = nvme_cb_enter(qp->ctrl, qp);
        nvme_unlock(qp);
        cb(arg, result, dw0);
        nvme_lock(qp);
        nvme_cb_leave(qp, depth);
    }
}

void nvme_qpair_complete_slot(struct nvme_qpair *qp, uint16_t idx, int result)
{
    nvme_qpair_finish(qp, idx, result, 0);
}

/* A zoned write (on an I/O queue, NO_RETRY marks nothing else) failed
 * with sf, a status that says how the command ended: a media error, Data
 * Transfer Error, Internal Error, Command Interrupted.  It may have moved
 * the zone's write pointer (QEMU 7.2 moves it over the whole command on a
 * Write Fault), so the same write again is a Zone Invalid Write (not at
 * the write pointer, ZNS Command Set) that hides sf: not sent again.  An
 * abort (the core's Abort, a queue it deleted) or Namespace Not Ready is
 * the core's recovery or a wait, retried as any write's. */
static bool nvme_zoned_write_failed(const struct nvme_qpair *qp, const struct nvme_cmd_slot *s,
                                    uint16_t sf)
{
    if (qp->qid == 0 || !(s->flags & NVME_SLOT_F_NO_RETRY))
        return false;
    uint8_t sc = NVME_SF_SC(sf);
    return NVME_SF_SCT(sf) != NVME_SCT_GENERIC ||
           (sc != NVME_SC_ABORT_REQ && sc != NVME_SC_ABORT_SQ_DELETION &&
            sc != NVME_SC_NS_NOT_READY);
}

/* The retry policy (nvme_qpair_retry) without the queue's state: true
 * when a completion with status sf would send the command again. */
static bool nvme_slot_retry_allowed(const struct nvme_qpair *qp, const struct nvme_cmd_slot *s,
                                    uint16_t sf)
{
    const struct nvme_ctrl *ctrl = qp->ctrl;
    /* An I/O command the core would not replay after a reset (Zone
     * Append, passthrough: it may have run, and a second run is not the
     * same) is not re-sent for a status either, nor an admin passthrough
     * (Linux fails passthrough fast, REQ_FAILFAST_DRIVER): a timed-out one
     * is aborted, and Command Abort Requested does not say that it did not
     * run; a zoned write only after an abort (nvme_zoned_write_failed). */
    return nvme_status_retryable(sf) && s->retries < ctrl->max_retries &&
           !NVME_READ_ONCE(ctrl->stopping) && !(s->flags & NVME_SLOT_F_NO_TIMEOUT) &&
           (qp->qid == 0 ? !(s->flags & NVME_SLOT_F_NO_RETRY)
                         : (s->flags & NVME_SLOT_F_REPLAY) && !nvme_zoned_write_failed(qp, s, sf));
}

void nvme_qpair_harvest(struct nvme_qpair *qp)
{
    struct nvme_ctrl *ctrl = qp->ctrl;
    if (qp->slots == NULL || qp->cq == NULL)
        return;
    nvme_lock(qp);
    /* A full queue holds entries - 1 commands (§4.1.2): no more entries. */
    for (uint16_t n = 1; n < qp->entries && qp->outstanding != 0; n++) {
        volatile struct nvme_cqe *vc = &qp->cq[qp->cq_head];
        nvme_dma_sync(ctrl, (void *)(uintptr_t)vc, sizeof(*vc), NVME_DMA_FROM_DEVICE);
        uint16_t status = vc->status;
        if (NVME_CQE_PHASE(status) != qp->phase)
            break;
        nvme_dma_rmb();
        uint32_t dw0 = vc->dw0;
        uint16_t cid = vc->cid, sqid = vc->sqid;
        uint16_t head = (uint16_t)(qp->cq_head + 1u);
        /* ">=": a restart that failed after nvme_qpair_set_entries made the
         * queue shorter leaves cq_head where the old depth had it; the
         * ring memory is ring_entries long, so the index stays inside. */
        if (head >= qp->entries) {
            head = 0;
            NVME_WRITE_ONCE(qp->phase, qp->phase ^ 1u);
        }
        NVME_WRITE_ONCE(qp->cq_head, head);
        uint16_t idx;
        if (!nvme_cqe_slot(qp, cid, sqid, &idx)) {
            nvme_qpair_bogus(qp, cid, sqid);
            continue;
        }
        /* An error the retry policy would not send again (DNR, a status
         * never retried, the budget spent) is the command's answer too, as
         * Linux's nvme_reap_pending_cqes completes every entry: a replay
         * would run a command the controller refused ("expected to fail",
         * §4.6.1), and a write it refused could then land.  Only one a
         * retry was due for is left to the reset's replay. */
        uint16_t sf = NVME_CQE_SF(status & 0xffeu ? status : 0u); /* as the reap */
        if (sf == 0 || !nvme_slot_retry_allowed(qp, &qp->slots[idx], sf))
            nvme_qpair_finish(qp, idx, sf, dw0);
    }
    nvme_unlock(qp);
}

void nvme_qpair_reclaim(struct nvme_qpair *qp, int result, enum nvme_reclaim mode)
{
    if (qp->slots == NULL)
        return;
    nvme_lock(qp);
    /* Past nslots: commands parked beyond a shrunk queue's depth. */
    for (uint16_t i = 0; i < qp->nslots_alloc; i++) {
        struct nvme_cmd_slot *s = &qp->slots[i];
        if (s->state == NVME_SLOT_FREE)
            continue;
        if (s->state == NVME_SLOT_REPLAY && mode != NVME_RECLAIM_ALL)
            continue;
        if (mode == NVME_RECLAIM_REPLAY && (s->flags & NVME_SLOT_F_REPLAY) &&
            s->retries < qp->ctrl->max_retries) {
            s->state = NVME_SLOT_REPLAY;
            /* Not parked: recovery.c's NVME_SLOT_F_HELD, its deadline held
             * by a pause (nvme_qpair_set_entries gives a parked one its own). */
            s->flags &= (uint8_t)~NVME_SLOT_F_PARKED;
            continue;
        }
        nvme_qpair_complete_slot(qp, i,
                                 (s->flags & NVME_SLOT_F_TIMED_OUT) ? NVME_ERR_TIMEOUT : result);
    }
    nvme_unlock(qp);
}

struct nvme_qpair *nvme_ctrl_qpair(struct nvme_ctrl *ctrl, uint16_t qid)
{
    if (qid == 0)
        return &ctrl->admin;
    return nvme_io_qpair_get(ctrl, qid); /* NVME_QID_CPU too, as the submissions take it */
}

/* ------------------------------------------------------------------ */
/* Submission                                                          */
/* ------------------------------------------------------------------ */

/* Stores a doorbell value in the shadow buffer and says whether the MMIO
 * doorbell is still needed (§5.7).  The admin queue always gets it. */
static bool nvme_qpair_shadow(struct nvme_qpair *qp, volatile uint32_t *sdb,
                              const volatile uint32_t *ei, uint16_t new_idx, uint16_t old)
{
    struct nvme_ctrl *ctrl = qp->ctrl;
    *sdb = new_idx;
    nvme_dma_sync(ctrl, (void *)(uintptr_t)sdb, sizeof(*sdb), NVME_DMA_TO_DEVICE);
    /* The shadow store must be visible before the event index is read,
     * or both sides may skip the doorbell (Linux: mb()). */
    nvme_dma_mb();
    nvme_dma_sync(ctrl, (void *)(uintptr_t)ei, sizeof(*ei), NVME_DMA_FROM_DEVICE);
    return qp->qid == 0 || nvme_dbbuf_need_event((uint16_t)*ei, new_idx, old);
}

/* The SQ entries queued since the last doorbell, [sq_tail_rung, sq_tail),
 * in one or two ranges: a batch costs one call or two. */
void nvme_qpair_clean_sq(struct nvme_qpair *qp)
{
    struct nvme_ctrl *ctrl = qp->ctrl;
    uint16_t from = qp->sq_tail_rung, to = qp->sq_tail;
    if (ctrl->osal.dma_sync == NULL || from == to)
        return;
    uint16_t end = to > from ? to : qp->entries;
    ctrl->osal.dma_sync(ctrl->osal.ctx, nvme_sq_entry(qp, from),
                        (size_t)(end - from) << qp->sqe_shift, NVME_DMA_TO_DEVICE);
    if (to < from && to != 0)
        ctrl->osal.dma_sync(ctrl->osal.ctx, qp->sq, (size_t)to << qp->sqe_shift,
                            NVME_DMA_TO_DEVICE);
}

/* Writes the SQ tail doorbell if entries were queued since the last one.
 * Called with the queue lock held. */
void nvme_qpair_ring_locked(struct nvme_qpair *qp)
{
    if (qp->sq_tail == qp->sq_tail_rung)
        return;
    nvme_qpair_clean_sq(qp);
    nvme_dma_wmb();
    if (qp->sdb_sq != NULL &&
        !nvme_qpair_shadow(qp, qp->sdb_sq, qp->ei_sq, qp->sq_tail, qp->sq_tail_rung)) {
        qp->sq_tail_rung = qp->sq_tail;
        return;
    }
    nvme_reg_write32(qp->ctrl, qp->sq_tdbl, qp->sq_tail);
    qp->sq_tail_rung = qp->sq_tail;
}

/* Copies the slot's SQE into the ring at the tail, with a fresh CID and
 * deadline.  Lock held. */
static void nvme_qpair_push(struct nvme_qpair *qp, uint16_t idx)
{
    struct nvme_ctrl *ctrl = qp->ctrl;
    struct nvme_cmd_slot *s = &qp->slots[idx];

    s->cid = (uint16_t)(s->cid + qp->cid_step);
    s->sqe.cid = s->cid;
    nvme_slot_deadline(ctrl, s,
                       (s->flags & NVME_SLOT_F_LONG) ? ctrl->long_ticks : qp->timeout_ticks);
    s->state = NVME_SLOT_ACTIVE;
    /* Eight 64-bit stores, unrolled: no memcpy call, no torn fields. */
    uint64_t *dst = nvme_sq_entry(qp, qp->sq_tail);
    dst[0] = s->sqe_q[0];
    dst[1] = s->sqe_q[1];
    dst[2] = s->sqe_q[2];
    dst[3] = s->sqe_q[3];
    dst[4] = s->sqe_q[4];
    dst[5] = s->sqe_q[5];
    dst[6] = s->sqe_q[6];
    dst[7] = s->sqe_q[7];
    if (ctrl->trace != 0)
        nvme_trace_sqe(ctrl, qp->qid, &s->sqe);
    qp->sq_tail = (uint16_t)(qp->sq_tail + 1u == qp->entries ? 0u : qp->sq_tail + 1u);
}

struct nvme_cmd_slot *nvme_qpair_begin(struct nvme_qpair *qp, uint32_t epoch, int *rc)
{
    struct nvme_ctrl *ctrl = qp->ctrl;

    nvme_lock(qp);
    if (!qp->live || !NVME_READ_ONCE(ctrl->ready)) {
        nvme_unlock(qp);
        /* A queue a reset dropped says so as its commands did
         * (nvme_qpair_dropped): a blocking caller goes on elsewhere. */
        *rc = NVME_READ_ONCE(ctrl->gone)   ? NVME_ERR_GONE
              : NVME_READ_ONCE(ctrl->dead) ? NVME_ERR_FATAL
              : nvme_qpair_dropped(qp)     ? NVME_ERR_REQUEUE
                                           : NVME_ERR_STATE;
        return NULL;
    }
    uint16_t idx = qp->free_head;
    /* A full queue, or I/O while a Format runs or after namespaces
     * changed since the checks (nvme_ns_epoch_read): checked here, under
     * the lock, so that nvme_ns_freeze's drain sees every command placed. */
    if (idx == NVME_NO_SLOT ||
        (qp->qid != 0 && (NVME_READ_ONCE(ctrl->ns_frozen) != 0 ||
                          (epoch != NVME_NS_EPOCH_ANY && nvme_ns_epoch_moved(ctrl, epoch))))) {
        nvme_unlock(qp);
        *rc = NVME_ERR_BUSY;
        return NULL;
    }
    struct nvme_cmd_slot *s = &qp->slots[idx];
    qp->free_head = s->next_free;
    qp->outstanding++;
    return s;
}

int nvme_qpair_commit(struct nvme_qpair *qp, struct nvme_cmd_slot *s, void *buf, uint32_t len,
                      enum nvme_dma_dir dir, unsigned flags, nvme_cmd_cb cb, void *arg)
{
    uint16_t idx = (uint16_t)(s - qp->slots);
    s->cb = cb;
    s->arg = arg;
    s->retries = 0;
    s->seq = qp->seq++;
    s->flags = (uint8_t)(((flags & NVME_CMD_NO_TIMEOUT) ? NVME_SLOT_F_NO_TIMEOUT : 0u) |
                         ((flags & NVME_CMD_LONG) ? NVME_SLOT_F_LONG : 0u) |
                         ((flags & NVME_CMD_REPLAY) ? NVME_SLOT_F_REPLAY : 0u) |
                         ((flags & NVME_CMD_NO_RETRY) ? NVME_SLOT_F_NO_RETRY : 0u));
    s->sqe.flags = 0; /* PSDT 00b: PRPs (§4.2) */
    s->buf = NULL;
    s->len = 0;
    s->prp_pages = NULL;
    /* Commands without data keep the PRP1 their builder set (Create I/O
     * CQ/SQ carry the queue base there, §5.3-5.4). */
    if (len != 0) {
        int rc = nvme_prp_build(qp, s, &s->sqe, buf, len, dir);
        if (rc != NVME_OK) {
            nvme_slot_release(qp, idx);
            nvme_unlock(qp);
            return rc;
        }
    }
    nvme_qpair_push(qp, idx);
    if (!(flags & NVME_SUBMIT_NO_DOORBELL))
        nvme_qpair_ring_locked(qp);
    nvme_unlock(qp);
    return NVME_OK;
}

/* The fast path's other half (nvme_internal.h): a transfer that needs a
 * PRP list, traces on, the queue not live or full (begin says why), or a
 * mapping the fast path gave back (prp.c maps it again and says why). */
int nvme_qpair_submit_rw_slow(struct nvme_qpair *qp, uint32_t epoch, uint8_t opc, uint32_t nsid,
                              uint64_t lba, uint32_t count, void *buf, uint32_t len, unsigned flags,
                              nvme_cmd_cb cb, void *arg)
{
    int rc;
    struct nvme_cmd_slot *s = nvme_qpair_begin(qp, epoch, &rc);
    if (s == NULL)
        return rc;
    nvme_sqe_rw(&s->sqe, opc, nsid, lba, count);
    return nvme_qpair_commit(qp, s, buf, len,
                             opc == NVME_CMD_READ ? NVME_DMA_FROM_DEVICE : NVME_DMA_TO_DEVICE,
                             flags | NVME_CMD_REPLAY, cb, arg);
}

int nvme_qpair_submit_epoch(struct nvme_qpair *qp, uint32_t epoch, const struct nvme_sqe *sqe,
                            void *buf, uint32_t len, enum nvme_dma_dir dir, unsigned flags,
                            nvme_cmd_cb cb, void *arg)
{
    int rc;
    if (qp->qid == 0 && len != 0 && (rc = nvme_prp_reserve(qp, buf, len)) != NVME_OK)
        return rc;
    struct nvme_cmd_slot *s = nvme_qpair_begin(qp, epoch, &rc);
    if (s == NULL)
        return rc;
    nvme_sqe_copy(&s->sqe, sqe);
    return nvme_qpair_commit(qp, s, buf, len, dir, flags, cb, arg);
}

int nvme_qpair_submit(struct nvme_qpair *qp, const struct nvme_sqe *sqe, void *buf, uint32_t len,
                      enum nvme_dma_dir dir, unsigned flags, nvme_cmd_cb cb, void *arg)
{
    return nvme_qpair_submit_epoch(qp, NVME_NS_EPOCH_ANY, sqe, buf, len, dir, flags, cb, arg);
}

void nvme_qpair_resubmit_locked(struct nvme_qpair *qp, uint16_t idx)
{
    qp->slots[idx].flags &= (uint8_t) ~(NVME_SLOT_F_ABORTED | NVME_SLOT_F_TIMED_OUT |
                                        NVME_SLOT_F_PARKED);
    nvme_qpair_push(qp, idx);
}

void nvme_qpair_ring(struct nvme_ctrl *ctrl, uint16_t qid)
{
#ifdef NVME_DEBUG
    if (ctrl != NULL && !nvme_handle_ok(ctrl))
        return; /* after fini: no lock, no doorbell (lifecycle rule 7) */
#endif
    struct nvme_qpair *qp = ctrl != NULL ? nvme_ctrl_qpair(ctrl, qid) : NULL;
    if (qp == NULL)
        return;
    nvme_lock(qp);
    if (qp->live)
        nvme_qpair_ring_locked(qp);
    nvme_unlock(qp);
}

/* ------------------------------------------------------------------ */
/* Completion                                                          */
/* ------------------------------------------------------------------ */

/* Retry policy for a completion with an error (lifecycle rule 5): DNR is
 * never retried; a retryable status is, within the budget, after the
 * Command Retry Delay it selects (CRD -> CRDT1-3 in 100 ms units,
 * §4.6.1 / Identify Controller).  Returns true when the slot stays. */
bool nvme_qpair_retry(struct nvme_qpair *qp, uint16_t idx, uint16_t sf)
{
    struct nvme_ctrl *ctrl = qp->ctrl;
    struct nvme_cmd_slot *s = &qp->slots[idx];

    if (!qp->live || !nvme_slot_retry_allowed(qp, s, sf))
        return false;
    s->retries++;
    nvme_stat_inc(&ctrl->stats.retries);
    unsigned crd = NVME_SF_CRD(sf);
    uint32_t delay_ms = crd != 0 ? (uint32_t)NVME_READ_ONCE(ctrl->crdt[crd - 1u]) * 100u : 0u;
    /* CRDT can say 6553 s: never wait longer than the command's own
     * deadline, so a retry stays inside the bounds the caller was given
     * (in 64 bits: a deadline of days in ms overflows 32). */
    uint64_t deadline_ms = (uint64_t)(ctrl->tick_us / 1000u) * qp->timeout_ticks;
    if (delay_ms > deadline_ms)
        delay_ms = (uint32_t)deadline_ms;
    if (delay_ms == 0) {
        nvme_qpair_resubmit_locked(qp, idx);
        return true;
    }
    /* Resubmitted by nvme_recovery_check() once the delay passed. */
    s->state = NVME_SLOT_RETRY_WAIT;
    nvme_slot_deadline(ctrl, s, nvme_ms_to_ticks(ctrl, delay_ms));
    return true;
}

/* A completion that names no command in flight: logged and dropped. */
void nvme_qpair_bogus(struct nvme_qpair *qp, uint16_t cid, uint16_t sqid)
{
    nvme_log(qp->ctrl, NVME_LOG_ERROR,
             "q%u: completion for no command in flight (cid %u, sqid %u): dropped", qp->qid, cid,
             sqid);
}

/* The CQ head doorbell after a batch (see nvme_qpair_process). */
void nvme_qpair_cq_doorbell(struct nvme_qpair *qp)
{
    struct nvme_ctrl *ctrl = qp->ctrl;
    /* With a shadow doorbell the MMIO write is skipped unless the event
     * index asks for it, but a pin-based interrupt is deasserted by the
     * MMIO head write (§7.5.1.1): INTx always writes it. */
    nvme_dma_ldst(); /* the entries' loads before their slots are handed back */
    bool mmio = qp->sdb_cq == NULL ||
                nvme_qpair_shadow(qp, qp->sdb_cq, qp->ei_cq, qp->cq_head, qp->cq_head_rung);
    if (mmio || ctrl->info.irq_is_intx)
        nvme_doorbell(ctrl, qp->cq_hdbl, qp->cq_head);
    NVME_WRITE_ONCE(qp->cq_head_rung, qp->cq_head);
}

int nvme_qpair_process(struct nvme_qpair *qp, unsigned max)
{
    struct nvme_ctrl *ctrl = qp->ctrl;
    /* An empty queue, the usual answer to a poll, is seen without the lock
     * (as Linux's nvme_poll does), unless a head is left to write (a nested
     * call's, see nvme_qpair_reap).  Racing a reaper on another CPU can
     * only make this answer 0 (that reaper has the entry) or take the lock
     * for nothing.  Not on a non-coherent port: there the look is a cache
     * invalidate, which may only run under the lock (nvme_osal.h,
     * non-coherent rule 5): a reset on another CPU may have stopped the
     * queue since `live` was read and be zeroing it, and the invalidate
     * would drop those zeros (the entries of the last lap would then come
     * back with the next lap's phase tag). */
    uint16_t head = NVME_READ_ONCE(qp->cq_head);
    if (ctrl->osal.dma_sync == NULL && NVME_READ_ONCE(qp->live) &&
        head == NVME_READ_ONCE(qp->cq_head_rung)) {
        volatile struct nvme_cqe *vc = &qp->cq[head];
        if (NVME_CQE_PHASE(vc->status) != NVME_READ_ONCE(qp->phase))
            return 0;
    }
    /* Traces looked at once per call, not per entry: a trace switched on
     * meanwhile starts with the next call. */
    if (__builtin_expect(ctrl->trace == 0, 1))
        return nvme_qpair_reap(ctrl, qp, max, true, false, true);
    return nvme_qpair_reap(ctrl, qp, max, false, false, true);
}

/* Queue selection (nvme.h): CPU c uses I/O queue 1 + c % (queues). */
uint16_t nvme_ctrl_cpu_qid(const struct nvme_ctrl *ctrl, unsigned cpu)
{
    if (ctrl == NULL)
        return 0;
    NVME_HANDLE_CHECK(ctrl, 0u);
    uint16_t n = nvme_io_queue_count(ctrl);
    if (n == 0)
        return 0;
    return (uint16_t)(1u + nvme_mod32(cpu, n));
}

unsigned nvme_qpair_outstanding(const struct nvme_ctrl *ctrl, uint16_t qid)
{
    if (ctrl == NULL)
        return 0;
    NVME_HANDLE_CHECK(ctrl, 0u);
    struct nvme_qpair *qp = nvme_ctrl_qpair((struct nvme_ctrl *)(uintptr_t)ctrl, qid);
    if (qp == NULL)
        return 0;
    nvme_lock(qp); /* another CPU may be submitting or reaping */
    unsigned n = qp->outstanding;
    nvme_unlock(qp);
    return n;
}

void nvme_waiter_cb(void *arg, int result, uint32_t dw0)
{
    struct nvme_waiter *w = arg;
    struct nvme_ctrl *ctrl = w->ctrl; /* w may be gone once pending is 0 */
    if (nvme_waiter_done(w, result, dw0) && ctrl->osal.wake != NULL)
        ctrl->osal.wake(ctrl->osal.ctx);
}
