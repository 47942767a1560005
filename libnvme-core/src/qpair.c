/* SPDX-License-Identifier: MIT */
/*
 * qpair.c - submission/completion queue rings (NVMe 1.4 §4.1), doorbells
 * (§3.1.24-25), phase tags (§4.6), and the per-CID slot table.  The admin
 * queue and the I/O queues use this same code.
 *
 * CIDs: the low bits index the slot table, the high bits carry a small
 * generation counter bumped each time a slot is reused, so a duplicate or
 * stale completion from the device is caught instead of completing the
 * wrong command (Linux does the same with its "genctr").  A CID that does
 * not name a command in flight is logged and dropped: never an
 * out-of-bounds access.
 */
#include "nvme_internal.h"

static unsigned nvme_cid_index_bits(const struct nvme_qpair *qp)
{
    unsigned bits = 1;
    while ((1u << bits) < qp->nslots && bits < 16)
        bits++;
    return bits;
}

static uint16_t nvme_cid_make(const struct nvme_qpair *qp, uint16_t idx, uint8_t gen)
{
    unsigned bits = nvme_cid_index_bits(qp);
    if (bits >= 16)
        return idx;
    uint32_t gmask = (1u << (16 - bits)) - 1u;
    return (uint16_t)(idx | ((gen & gmask) << bits));
}

static uint16_t nvme_cid_index(const struct nvme_qpair *qp, uint16_t cid)
{
    unsigned bits = nvme_cid_index_bits(qp);
    return (uint16_t)(bits >= 16 ? cid : (cid & ((1u << bits) - 1u)));
}

/* ------------------------------------------------------------------ */
/* Allocation                                                          */
/* ------------------------------------------------------------------ */

int nvme_qpair_alloc(struct nvme_ctrl *ctrl, struct nvme_qpair *qp, uint16_t qid,
                     uint16_t entries)
{
    const struct nvme_osal *o = &ctrl->osal;

    nvme_memzero(qp, sizeof(*qp));
    qp->ctrl = ctrl;
    qp->qid = qid;
    qp->entries = entries;
    qp->nslots = (uint16_t)(entries - 1u); /* a full ring keeps one entry empty (§4.1.2) */
    qp->sq_tdbl = NVME_SQ_TDBL(qid, ctrl->dstrd);
    qp->cq_hdbl = NVME_CQ_HDBL(qid, ctrl->dstrd);

    /* Queue memory: physically contiguous and page aligned (§4.1.3, PC=1). */
    size_t sq_len = (size_t)entries * sizeof(struct nvme_sqe);
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
    if (qp->sq != NULL)
        o->dma_free(o->ctx, qp->sq, (size_t)qp->entries * sizeof(struct nvme_sqe));
    if (qp->cq != NULL)
        o->dma_free(o->ctx, qp->cq, (size_t)qp->entries * sizeof(struct nvme_cqe));
    if (qp->slots != NULL)
        o->mem_free(o->ctx, qp->slots, sizeof(*qp->slots) * qp->nslots);
    if (qp->lock != NULL)
        o->lock_destroy(o->ctx, qp->lock);
    nvme_memzero(qp, sizeof(*qp));
}

void nvme_qpair_reset_rings(struct nvme_qpair *qp)
{
    struct nvme_ctrl *ctrl = qp->ctrl;
    nvme_memzero(qp->sq, (size_t)qp->entries * sizeof(struct nvme_sqe));
    nvme_memzero(qp->cq, (size_t)qp->entries * sizeof(struct nvme_cqe));
    nvme_dma_sync(ctrl, qp->cq, (size_t)qp->entries * sizeof(struct nvme_cqe), NVME_DMA_TO_DEVICE);
    qp->sq_tail = qp->sq_tail_rung = qp->cq_head = 0;
    qp->phase = 1; /* the controller posts its first lap with P=1 (§4.6) */
    qp->live = false;
    qp->outstanding = 0;
    qp->free_head = NVME_NO_SLOT;
    for (uint16_t i = qp->nslots; i-- > 0;) {
        struct nvme_cmd_slot *s = &qp->slots[i];
        s->state = NVME_SLOT_FREE;
        s->next_free = qp->free_head;
        qp->free_head = i;
    }
}

/* ------------------------------------------------------------------ */
/* Slots                                                               */
/* ------------------------------------------------------------------ */

static void nvme_slot_release(struct nvme_qpair *qp, uint16_t idx)
{
    struct nvme_cmd_slot *s = &qp->slots[idx];
    nvme_prp_release(qp, s);
    s->state = NVME_SLOT_FREE;
    s->gen++;
    s->next_free = qp->free_head;
    qp->free_head = idx;
    qp->outstanding--;
}

void nvme_qpair_fail_all(struct nvme_qpair *qp, int result)
{
    if (qp->slots == NULL)
        return;
    for (uint16_t i = 0; i < qp->nslots; i++) {
        nvme_lock(qp);
        struct nvme_cmd_slot *s = &qp->slots[i];
        uint8_t state = s->state;
        nvme_cmd_cb cb = s->cb;
        void *arg = s->arg;
        if (state != NVME_SLOT_FREE)
            nvme_slot_release(qp, i);
        nvme_unlock(qp);
        if (state == NVME_SLOT_ACTIVE && cb != NULL)
            cb(arg, result, 0);
    }
}

/* ------------------------------------------------------------------ */
/* Submission                                                          */
/* ------------------------------------------------------------------ */

/* Writes the SQ tail doorbell if entries were queued since the last one.
 * Called with the queue lock held. */
static void nvme_qpair_ring_locked(struct nvme_qpair *qp)
{
    if (qp->sq_tail == qp->sq_tail_rung)
        return;
    nvme_dma_wmb();
    nvme_reg_write32(qp->ctrl, qp->sq_tdbl, qp->sq_tail);
    qp->sq_tail_rung = qp->sq_tail;
}

int nvme_qpair_submit(struct nvme_qpair *qp, struct nvme_sqe *sqe, void *buf, uint32_t len,
                      enum nvme_dma_dir dir, unsigned flags, nvme_cmd_cb cb, void *arg)
{
    struct nvme_ctrl *ctrl = qp->ctrl;

    if (!qp->live || !ctrl->ready)
        return NVME_ERR_STATE;
    uint64_t now = nvme_now_us(ctrl);

    nvme_lock(qp);
    uint16_t idx = qp->free_head;
    if (idx == NVME_NO_SLOT) {
        nvme_unlock(qp);
        return NVME_ERR_BUSY;
    }
    struct nvme_cmd_slot *s = &qp->slots[idx];
    qp->free_head = s->next_free;
    s->cb = cb;
    s->arg = arg;
    s->deadline_us = now + (uint64_t)ctrl->cmd_timeout_ms * 1000u;
    s->prp_pages = NULL;
    s->buf = NULL;
    s->len = 0;
    s->state = NVME_SLOT_ACTIVE;
    qp->outstanding++;
    sqe->cid = nvme_cid_make(qp, idx, s->gen);
    sqe->flags = 0; /* PSDT 00b: PRPs (§4.2) */

    /* Commands without data keep the PRP1 their builder set (Create I/O
     * CQ/SQ carry the queue base there, §5.3-5.4). */
    if (len != 0) {
        int rc = nvme_prp_build(qp, s, sqe, buf, len, dir);
        if (rc != NVME_OK) {
            nvme_slot_release(qp, idx);
            nvme_unlock(qp);
            return rc;
        }
    }

    /* Copy as eight 64-bit stores: no memcpy call, no torn fields. */
    volatile uint64_t *dst = (volatile uint64_t *)(void *)&qp->sq[qp->sq_tail];
    const uint64_t *src = (const uint64_t *)(const void *)sqe;
    for (unsigned i = 0; i < sizeof(*sqe) / 8u; i++)
        dst[i] = src[i];
    nvme_dma_sync(ctrl, &qp->sq[qp->sq_tail], sizeof(*sqe), NVME_DMA_TO_DEVICE);
    if (ctrl->trace != 0)
        nvme_trace_sqe(ctrl, qp->qid, sqe);
    qp->sq_tail = (uint16_t)(qp->sq_tail + 1u == qp->entries ? 0u : qp->sq_tail + 1u);

    if (!(flags & NVME_SUBMIT_NO_DOORBELL))
        nvme_qpair_ring_locked(qp);
    nvme_unlock(qp);
    return NVME_OK;
}

void nvme_qpair_ring(struct nvme_ctrl *ctrl, uint16_t qid)
{
    struct nvme_qpair *qp = ctrl != NULL ? nvme_ctrl_qpair(ctrl, qid) : NULL;
    if (qp == NULL || !qp->live)
        return;
    nvme_lock(qp);
    nvme_qpair_ring_locked(qp);
    nvme_unlock(qp);
}

/* ------------------------------------------------------------------ */
/* Completion                                                          */
/* ------------------------------------------------------------------ */

int nvme_qpair_process(struct nvme_qpair *qp, unsigned max)
{
    struct nvme_ctrl *ctrl = qp->ctrl;
    int reaped = 0;

    if (!qp->live)
        return 0;
    nvme_lock(qp);
    while (max == 0 || (unsigned)reaped < max) {
        volatile struct nvme_cqe *vc = &qp->cq[qp->cq_head];
        nvme_dma_sync(ctrl, (void *)(uintptr_t)vc, sizeof(*vc), NVME_DMA_FROM_DEVICE);
        uint16_t status = vc->status;
        if (NVME_CQE_PHASE(status) != qp->phase)
            break; /* not written by the device on this lap yet */
        nvme_dma_rmb();
        struct nvme_cqe cqe;
        cqe.dw0 = vc->dw0;
        cqe.dw1 = vc->dw1;
        cqe.sqhd = vc->sqhd;
        cqe.sqid = vc->sqid;
        cqe.cid = vc->cid;
        cqe.status = status;

        if (++qp->cq_head == qp->entries) {
            qp->cq_head = 0;
            qp->phase ^= 1u; /* the phase tag inverts on each lap (§4.6) */
        }
        reaped++;
        if (ctrl->trace != 0)
            nvme_trace_cqe(ctrl, qp->qid, &cqe);

        uint16_t idx = nvme_cid_index(qp, cqe.cid);
        struct nvme_cmd_slot *s = idx < qp->nslots ? &qp->slots[idx] : NULL;
        if (cqe.sqid != qp->qid || s == NULL || s->state == NVME_SLOT_FREE ||
            cqe.cid != nvme_cid_make(qp, idx, s->gen)) {
            nvme_log(ctrl, NVME_LOG_ERROR,
                     "q%u: completion for no command in flight (cid %u, sqid %u): dropped",
                     qp->qid, cqe.cid, cqe.sqid);
            continue;
        }
        uint16_t sf = NVME_CQE_SF(status);
        if (s->state == NVME_SLOT_ORPHANED) {
            nvme_log(ctrl, NVME_LOG_WARN, "q%u: late completion of timed-out cid %u", qp->qid,
                     cqe.cid);
            nvme_slot_release(qp, idx);
            continue;
        }
        nvme_cmd_cb cb = s->cb;
        void *arg = s->arg;
        nvme_slot_release(qp, idx);
        if (cb != NULL) {
            /* Callbacks run unlocked: they may submit the next command. */
            nvme_unlock(qp);
            cb(arg, sf, cqe.dw0);
            nvme_lock(qp);
        }
    }
    if (reaped > 0) /* one CQ head doorbell per batch (§4.1.2) */
        nvme_reg_write32(ctrl, qp->cq_hdbl, qp->cq_head);
    nvme_unlock(qp);
    return reaped;
}

/* Fails back commands whose deadline passed and returns how many.  Their
 * CID stays reserved (ORPHANED) until the device completes them or the
 * controller is reset: the device may still own the buffer. */
static unsigned nvme_qpair_expire(struct nvme_qpair *qp, uint64_t now)
{
    unsigned expired = 0;
    for (uint16_t i = 0; i < qp->nslots && qp->outstanding > 0; i++) {
        nvme_lock(qp);
        struct nvme_cmd_slot *s = &qp->slots[i];
        if (s->state != NVME_SLOT_ACTIVE || s->deadline_us > now) {
            nvme_unlock(qp);
            continue;
        }
        s->state = NVME_SLOT_ORPHANED;
        nvme_cmd_cb cb = s->cb;
        void *arg = s->arg;
        nvme_unlock(qp);
        expired++;
        nvme_log(qp->ctrl, NVME_LOG_ERROR, "q%u: command cid %u timed out", qp->qid, i);
        if (cb != NULL)
            cb(arg, NVME_ERR_TIMEOUT, 0);
    }
    return expired;
}

static void nvme_recover(struct nvme_ctrl *ctrl, int why);

int nvme_qpair_poll(struct nvme_ctrl *ctrl, uint16_t qid, unsigned max)
{
    struct nvme_qpair *qp = ctrl != NULL ? nvme_ctrl_qpair(ctrl, qid) : NULL;
    if (qp == NULL)
        return NVME_ERR_INVAL;
    int n = nvme_qpair_process(qp, max);
    if (n > 0 || qp->outstanding == 0)
        return n;
    /* Nothing came back while commands are in flight: expire overdue
     * ones and, at most once per NVME_CSTS_CHECK_US, look at CSTS so a
     * fatal or vanished controller is reported, not waited out (§9.5). */
    uint64_t now = nvme_now_us(ctrl);
    (void)nvme_qpair_expire(qp, now);
    if (now - qp->csts_checked_us >= NVME_CSTS_CHECK_US) {
        qp->csts_checked_us = now;
        int rc = nvme_ctrl_check_csts(ctrl);
        if (rc != NVME_OK) {
            nvme_recover(ctrl, rc);
            return rc;
        }
    }
    return n;
}

unsigned nvme_qpair_outstanding(const struct nvme_ctrl *ctrl, uint16_t qid)
{
    if (ctrl == NULL)
        return 0;
    const struct nvme_qpair *qp = nvme_ctrl_qpair((struct nvme_ctrl *)(uintptr_t)ctrl, qid);
    return qp != NULL ? qp->outstanding : 0;
}

/* ------------------------------------------------------------------ */
/* Blocking helpers                                                    */
/* ------------------------------------------------------------------ */

void nvme_waiter_cb(void *arg, int result, uint32_t dw0)
{
    struct nvme_waiter *w = arg;
    if (w->result == 0 && result != 0)
        w->result = result;
    w->dw0 = dw0;
    w->pending--;
}

/* The device stopped answering or reported a fatal error while we
 * waited: a reset (§7.3.2) fails everything back, clears CFS and makes
 * the controller usable again.  Not during bring-up or a reset. */
static void nvme_recover(struct nvme_ctrl *ctrl, int why)
{
    if (why == NVME_ERR_GONE) {
        ctrl->ready = false;
        nvme_qpair_fail_all(&ctrl->admin, NVME_ERR_GONE);
        for (uint16_t i = 0; i < ctrl->nr_ioq; i++)
            nvme_qpair_fail_all(&ctrl->ioq[i], NVME_ERR_GONE);
        return;
    }
    if (!ctrl->up || ctrl->in_reset)
        return;
    nvme_log(ctrl, NVME_LOG_WARN, "resetting the controller after: %s", nvme_strerror(why));
    int rc = nvme_ctrl_reset(ctrl);
    if (rc != NVME_OK)
        nvme_log(ctrl, NVME_LOG_ERROR, "reset after %s failed: %s", nvme_strerror(why),
                 nvme_strerror(rc));
}

int nvme_qpair_wait(struct nvme_qpair *qp, struct nvme_waiter *w)
{
    struct nvme_ctrl *ctrl = qp->ctrl;
    volatile unsigned *pending = &w->pending;
    uint64_t last_poll = nvme_now_us(ctrl);
    uint32_t sleep = 1;
    bool timed_out = false;

    while (*pending != 0) {
        uint64_t now = nvme_now_us(ctrl);
        /* With interrupts the handler reaps; poll only as a safety net. */
        if (!qp->irq || now - last_poll >= NVME_IRQ_FALLBACK_POLL_US) {
            int n = nvme_qpair_process(qp, 0);
            if (qp->irq && n > 0 && !qp->warned_lost_irq) {
                qp->warned_lost_irq = true;
                nvme_log(ctrl, NVME_LOG_WARN, "q%u: completion found by polling, interrupt lost?",
                         qp->qid);
            }
            last_poll = now;
            if (*pending == 0)
                break;
        }
        /* Count what expire failed back, not changes of *pending: an
         * interrupt may complete a command at any moment. */
        if (qp->outstanding > 0 && nvme_qpair_expire(qp, now) > 0) {
            timed_out = true;
            if (*pending == 0)
                break;
        }
        /* Long waits look at CSTS: a fatal or vanished controller will
         * not complete anything (§9.5). */
        if (sleep >= NVME_POLL_MAX_SLEEP_US) {
            int rc = nvme_ctrl_check_csts(ctrl);
            if (rc != NVME_OK) {
                nvme_log(ctrl, NVME_LOG_ERROR, "q%u: controller %s while waiting", qp->qid,
                         rc == NVME_ERR_GONE ? "gone" : "fatal status");
                nvme_recover(ctrl, rc);
                /* No reset ran (bring-up, or inside a reset): fail this
                 * queue back here so no callback outlives its waiter. */
                if (*pending != 0)
                    nvme_qpair_fail_all(qp, rc);
                return w->result != 0 ? w->result : rc;
            }
        }
        ctrl->osal.sleep_us(ctrl->osal.ctx, sleep);
        if (sleep < NVME_POLL_MAX_SLEEP_US)
            sleep *= 2;
    }
    if (timed_out)
        nvme_recover(ctrl, NVME_ERR_TIMEOUT);
    return w->result;
}

int nvme_qpair_exec(struct nvme_qpair *qp, struct nvme_sqe *sqe, void *buf, uint32_t len,
                    enum nvme_dma_dir dir, uint32_t *dw0)
{
    struct nvme_waiter w = {1, 0, 0};
    int rc = nvme_qpair_submit(qp, sqe, buf, len, dir, 0, nvme_waiter_cb, &w);
    if (rc != NVME_OK)
        return rc;
    rc = nvme_qpair_wait(qp, &w);
    if (dw0 != NULL)
        *dw0 = w.dw0;
    return rc;
}
