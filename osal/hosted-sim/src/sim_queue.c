/* SPDX-License-Identifier: MIT */
/*
 * sim_queue.c - the device side of the queues (NVMe 1.4 §4.1, §4.6):
 * fetch SQEs between head and the tail doorbell, run them, post CQEs with
 * the phase tag and SQ head, honour CQ size and wrap; fault injection.
 */
#include <stdlib.h>
#include <string.h>

#include "sim_internal.h"

/* Post one CQE (§4.6): false when the CQ is full or unreachable.  The CRD
 * bits (status field 12:11) reach the host only with ACRE set (Host
 * Behavior Support, §5.21.1.22). */
bool sim_post_cqe_phase(struct nvme_sim *sim, uint16_t cqid, const struct nvme_cqe *cqe,
                        bool bad_phase)
{
    if (cqid >= sim->nq || !sim->cq[cqid].live || sim->dma_stopped)
        return false;
    sim_held_due(sim); /* the held transfers repeat before the host reads it */
    struct sim_cq *cq = &sim->cq[cqid];
    sim_dbbuf_cq_head(sim, cqid);
    if ((cq->tail + 1) % cq->size == cq->head)
        return false;
    struct nvme_cqe e = *cqe;
    e.status = (uint16_t)((e.status & ~1u) | (cq->phase ^ (bad_phase ? 1u : 0u)));
    if (!(sim->hbs[0] & 1u))
        e.status &= (uint16_t) ~(0x3u << 12); /* CRD: status field bits 12:11 */
    uint64_t bus = cq->bus + (uint64_t)cq->tail * sizeof(e);
    /* The phase tag lands last: DW0-DW2 first, then DW3. */
    uint64_t late = sim->st.dma_after_return;
    if (!sim_dma_write(sim, bus, &e, 12, "CQ entry")) {
        if (sim->st.dma_after_return == late)
            sim->csts |= NVME_CSTS_CFS; /* the device cannot write its CQ: fatal */
        return false;
    }
    __atomic_thread_fence(__ATOMIC_RELEASE);
    sim_dma_write(sim, bus + 12, (const uint8_t *)&e + 12, 4, "CQ entry");
    if (++cq->tail == cq->size) {
        cq->tail = 0;
        cq->phase ^= 1;
    }
    sim->st.completions++;
    sim->tag_busy[e.cid / 8] &= (uint8_t) ~(1u << (e.cid % 8));
    sim_cid_done(sim, e.sqid, e.cid);
    sim_raise_irq(sim, cq);
    return true;
}

bool sim_post_cqe(struct nvme_sim *sim, uint16_t cqid, const struct nvme_cqe *cqe)
{
    return sim_post_cqe_phase(sim, cqid, cqe, false);
}

static void hold_delayed(struct nvme_sim *sim, uint16_t cqid, const struct nvme_cqe *cqe,
                         uint32_t us, uint16_t sqid, uint16_t cid, uint8_t opc, bool room)
{
    if (sim->ndelayed == sim->delayed_cap) {
        size_t ncap = sim->delayed_cap ? sim->delayed_cap * 2 : 16;
        struct sim_delayed *n = realloc(sim->delayed, ncap * sizeof(*n));
        if (!n)
            return;
        sim->delayed = n;
        sim->delayed_cap = ncap;
    }
    sim->delayed[sim->ndelayed++] = (struct sim_delayed){cqid, sim->now + us, *cqe, sqid,
                                                         cid,  opc,           room};
}

/* Whether a CQE for `cqid` failed for want of room alone (its head as
 * the failed post read it, shadow doorbell included). */
static bool cq_full(const struct nvme_sim *sim, uint16_t cqid)
{
    if (cqid >= sim->nq || !sim->cq[cqid].live || sim->dma_stopped)
        return false;
    const struct sim_cq *cq = &sim->cq[cqid];
    return (cq->tail + 1) % cq->size == cq->head;
}

/* A completion the controller made while the CQ it goes to is full (an
 * Abort's or Delete I/O SQ's, for the commands they end, or the admin
 * completion after them) waits for room, as in QEMU's CQ request list
 * (§4.6: a full CQ holds completions back, it does not lose them). */
void sim_post_cqe_wait(struct nvme_sim *sim, uint16_t cqid, const struct nvme_cqe *cqe, uint8_t opc)
{
    if (!sim_post_cqe(sim, cqid, cqe) && cq_full(sim, cqid))
        hold_delayed(sim, cqid, cqe, 0, cqe->sqid, cqe->cid, opc, true);
}

/* Completions held back by NVME_SIM_FAULT_DELAY whose time came; one
 * for a full CQ waits for room, as a late command's (before: lost). */
unsigned sim_post_delayed(struct nvme_sim *sim)
{
    unsigned n = 0;
    for (size_t i = 0; i < sim->ndelayed;) {
        struct sim_delayed *d = &sim->delayed[i];
        if (d->due_us <= sim->now && d->cqid < sim->nq && sim->cq[d->cqid].live &&
            !sim_dbbuf_cq_room(sim, d->cqid)) {
            i++;
        } else if (d->due_us <= sim->now) {
            if (sim_post_cqe(sim, d->cqid, &d->cqe))
                n++;
            sim->delayed[i] = sim->delayed[--sim->ndelayed];
        } else {
            i++;
        }
    }
    return n;
}

static struct sim_fault *fault_match(struct nvme_sim *sim, uint16_t qid, const struct nvme_sqe *sqe)
{
    for (unsigned i = 0; i < sim->nfaults; i++) {
        struct sim_fault *f = &sim->faults[i];
        unsigned count = f->f.count ? f->f.count : 1;
        if (f->fired >= count)
            continue;
        if (f->f.qid == NVME_SIM_ANY_IO ? qid == 0 : (f->f.qid != NVME_SIM_ANY && f->f.qid != qid))
            continue;
        if (f->f.opcode != NVME_SIM_ANY && f->f.opcode != sqe->opc)
            continue;
        if (f->f.cid != NVME_SIM_ANY && f->f.cid != sqe->cid)
            continue;
        if (f->skipped < f->f.skip) {
            f->skipped++;
            continue;
        }
        f->fired++;
        sim->fault_hits++;
        return f;
    }
    return NULL;
}

/* apple_ans2: the CID is a tag in one space shared by every queue, below
 * the I/O queue's depth (what Linux's SHARED_TAGS quirk works around:
 * such a collision shuts the machine down).  A violation is fatal. */
static bool tag_take(struct nvme_sim *sim, uint16_t qid, const struct sim_sq *sq, uint16_t cid)
{
    bool busy = sim->tag_busy[cid / 8] & (1u << (cid % 8));
    if (!busy && (qid == 0 || cid < sq->size)) {
        sim->tag_busy[cid / 8] |= (uint8_t)(1u << (cid % 8));
        return true;
    }
    sim->st.tag_collisions++;
    sim_msg(sim, "tag violation: q%u cid %u %s: CSTS.CFS", qid, cid,
            busy ? "already in flight" : "not below the queue depth");
    sim->csts |= NVME_CSTS_CFS;
    return false;
}

/* The device is done with command `cid` of SQ `sqid`: its CID is free. */
void sim_cid_done(struct nvme_sim *sim, uint16_t sqid, uint16_t cid)
{
    if (sqid < sim->nq)
        sim->cid_busy[sqid * (65536u / 8) + cid / 8] &= (uint8_t) ~(1u << (cid % 8));
}

/* A new tail that would put more than size - 1 entries between the head
 * the device fetched to and it: the host overran the SQ (§4.1.2: full
 * when head = tail + 1; Invalid Doorbell Write Value, §5.2.1). */
bool sim_sq_overrun(const struct sim_sq *sq, uint32_t tail)
{
    uint32_t used = (sq->tail + sq->size - sq->head) % sq->size;
    return used + (tail + sq->size - sq->tail) % sq->size >= sq->size;
}

/* Run every command between head and tail of SQ `qid`; stops when its CQ
 * is full (resumed by the next CQ head doorbell).  Returns CQEs posted. */
unsigned sim_process_sq(struct nvme_sim *sim, uint16_t qid)
{
    struct sim_sq *sq = &sim->sq[qid];
    unsigned posted = 0;
    sq->due_set = false;
    sim->sq_batch++;
    sim_dbbuf_sq_tail(sim, qid);
    while (sq->live && (sq->head != sq->tail || sim_dbbuf_sq_more(sim, qid)) && !sim->gone &&
           !(sim->csts & (NVME_CSTS_CFS | NVME_CSTS_PP)) && (sim->csts & NVME_CSTS_RDY) &&
           !sim->dma_stopped) {
        struct sim_cq *cq = &sim->cq[sq->cqid];
        if (!cq->live)
            break;
        if ((cq->tail + 1) % cq->size == cq->head && !sim_dbbuf_cq_room(sim, sq->cqid))
            break;
        struct nvme_sqe sqe;
        uint64_t stride = qid == 0 ? sizeof(sqe) : sim->iosqes; /* admin: 64 B (§3.1.5) */
        if (!sim_dma_read(sim, sq->bus + (uint64_t)sq->head * stride, &sqe, sizeof(sqe),
                          "SQ entry")) {
            sim->csts |= NVME_CSTS_CFS; /* the device cannot fetch commands: fatal */
            break;
        }
        sq->head = (sq->head + 1) % sq->size;
        if (qid == 0)
            sim->st.admin_cmds++;
        else
            sim->st.io_cmds++;
        if (qid != 0)
            sim_hmb_touch(sim);
        /* FFFFh names no command in the Error Information log (§5.14.1.1). */
        if (sqe.cid == 0xFFFFu)
            sim_host_error(sim, "SQ %u: a command with CID FFFFh", qid);
        /* §4.2: a CID is unique among the commands in flight on its SQ. */
        uint8_t *busy = &sim->cid_busy[qid * (65536u / 8) + sqe.cid / 8];
        if (*busy & (1u << (sqe.cid % 8)))
            sim_host_error(sim, "SQ %u: CID %u submitted while the device still holds it", qid,
                           sqe.cid);
        *busy |= (uint8_t)(1u << (sqe.cid % 8));

        struct sim_fault *f = NULL;
        uint32_t dw0 = 0;
        uint16_t sf;
        bool no_cqe = false;
        if (sim->cfg.apple_ans2 && !tag_take(sim, qid, sq, sqe.cid))
            break;
        if (sim_pend_abort_take(sim, qid, sqe.cid)) { /* aborted before it was fetched */
            sf = (uint16_t)NVME_SF(NVME_SCT_GENERIC, NVME_SC_ABORT_REQ);
            goto complete;
        }
        f = fault_match(sim, qid, &sqe);
        if (!f && sim_late_take(sim, qid, &sqe))
            continue; /* data and CQE later (cfg.dma_timing_seed) */
        if (f && f->f.kind == NVME_SIM_FAULT_HANG) {
            sim_hold(sim, qid, &sqe);
            continue;
        }
        sim->short_on = f && f->f.kind == NVME_SIM_FAULT_SHORT_DATA;
        sim->short_len = f ? f->f.value : 0;
        sim->garbage_on = f && f->f.kind == NVME_SIM_FAULT_GARBAGE_DATA;
        sim->garbage_seed = f ? f->f.value : 0;
        if (f && f->f.kind == NVME_SIM_FAULT_STATUS) {
            sf = (uint16_t)(f->f.value & 0x7fff);
        } else if (f && f->f.kind == NVME_SIM_FAULT_CFS) {
            sim_msg(sim, "fault: CSTS.CFS set by command opc 0x%02x cid %u", sqe.opc, sqe.cid);
            sim->csts |= NVME_CSTS_CFS;
            break;
        } else if (f && f->f.kind == NVME_SIM_FAULT_GONE) {
            sim_msg(sim, "fault: device gone at command opc 0x%02x cid %u", sqe.opc, sqe.cid);
            sim->gone = true;
            break;
        } else if (qid == 0) {
            sf = sim_admin_exec(sim, &sqe, &dw0, &no_cqe);
        } else {
            sf = sim_nvm_exec(sim, &sqe, &dw0);
        }
        sim->short_on = sim->garbage_on = false;
        if (no_cqe) /* Asynchronous Event Request: held */
            continue;
    complete:;

        struct nvme_cqe cqe = {.dw0 = dw0,
                               .sqhd = (uint16_t)sq->head,
                               .sqid = qid,
                               .cid = sqe.cid,
                               .status = (uint16_t)(sf << 1)};
        uint16_t cqid = sq->cqid;
        if (!(f && f->f.kind == NVME_SIM_FAULT_DELAY)) /* done, whatever the CQE says */
            sim_cid_done(sim, qid, sqe.cid);
        if (f && f->f.kind == NVME_SIM_FAULT_DROP_CQE)
            continue;
        if (f && f->f.kind == NVME_SIM_FAULT_DELAY) {
            hold_delayed(sim, cqid, &cqe, f->f.value, qid, sqe.cid, sqe.opc, false);
            continue;
        }
        if (f && f->f.kind == NVME_SIM_FAULT_BOGUS_CID)
            cqe.cid = (uint16_t)f->f.value;
        if (f && f->f.kind == NVME_SIM_FAULT_SQHD)
            cqe.sqhd = (uint16_t)f->f.value;
        if (f && f->f.kind == NVME_SIM_FAULT_SQID)
            cqe.sqid = (uint16_t)f->f.value;
        if (f && f->f.kind == NVME_SIM_FAULT_DW0)
            cqe.dw0 = f->f.value;
        if (sim_post_cqe_phase(sim, cqid, &cqe, f && f->f.kind == NVME_SIM_FAULT_PHASE))
            posted++;
        else if (cq_full(sim, cqid)) /* an Abort filled it: the CQE waits for room */
            hold_delayed(sim, cqid, &cqe, 0, qid, sqe.cid, sqe.opc, true);
        if (f && f->f.kind == NVME_SIM_FAULT_DUP_CQE && sim_post_cqe(sim, cqid, &cqe))
            posted++;
    }
    if (sq->live && sq->head != sq->tail) { /* stalled: retry on the next tick */
        sq->due_set = true;
        sq->due_us = sim->now;
    }
    return posted;
}

/* Process every SQ (due_only: only deferred work whose time came). */
unsigned sim_process_all(struct nvme_sim *sim, bool due_only)
{
    unsigned n = sim_post_delayed(sim);
    sim_aer_dispatch(sim); /* one a full admin CQ held back */
    for (uint16_t q = 0; q < sim->nq; q++) {
        struct sim_sq *sq = &sim->sq[q];
        if (!sq->live || sq->head == sq->tail)
            continue;
        if (due_only && (!sq->due_set || sq->due_us > sim->now))
            continue;
        n += sim_process_sq(sim, q);
    }
    return n;
}
