/* SPDX-License-Identifier: MIT */
/*
 * sim_held.c - commands the device fetched but keeps in flight
 * (NVME_SIM_FAULT_HANG): the DMA they keep doing, what a controller reset
 * does to them, and Abort (NVMe 1.4 §5.1), which can reach them, delayed
 * completions, outstanding AERs and commands not yet fetched.
 */
#include <stdlib.h>
#include <string.h>

#include "sim_internal.h"

#define SF_ABORT_REQ ((uint16_t)NVME_SF(NVME_SCT_GENERIC, NVME_SC_ABORT_REQ))
#define SF_ABORT_LIMIT SIM_SF_CMD(0x03) /* Abort Command Limit Exceeded */

static bool has_data(uint16_t qid, uint8_t opc)
{
    if (qid == 0)
        return opc == NVME_ADMIN_IDENTIFY || opc == NVME_ADMIN_GET_LOG_PAGE;
    return opc == NVME_CMD_READ || opc == NVME_CMD_WRITE;
}

/* Keep a fetched command in flight.  A command with data runs once in
 * capture mode: its checks happen now (a bad command simply hangs without
 * DMA), sim_prp_copy records the segments and the data to repeat, and the
 * command has no other effect (no media write, no log side effect). */
void sim_hold(struct nvme_sim *sim, uint16_t qid, const struct nvme_sqe *sqe)
{
    if (sim->nheld == sim->held_cap) {
        size_t ncap = sim->held_cap ? sim->held_cap * 2 : 8;
        struct sim_held *n = realloc(sim->held, ncap * sizeof(*n));
        if (!n)
            return;
        sim->held = n;
        sim->held_cap = ncap;
    }
    struct sim_held *h = &sim->held[sim->nheld++];
    *h = (struct sim_held){
        .sqid = qid, .cqid = sim->sq[qid].cqid, .cid = sqe->cid, .opc = sqe->opc};
    if (qid == 0 && sqe->opc == NVME_ADMIN_ABORT)
        sim->st.aborts++; /* received, never executed */
    sim_msg(sim, "fault: command opc 0x%02x cid %u on SQ %u hangs", sqe->opc, sqe->cid, qid);
    if (!has_data(qid, sqe->opc))
        return;
    uint32_t dw0 = 0;
    bool no_cqe = false;
    sim->xfer_capture = &h->x;
    if (qid == 0)
        (void)sim_admin_exec(sim, sqe, &dw0, &no_cqe);
    else
        (void)sim_nvm_exec(sim, sqe, &dw0);
    sim->xfer_capture = NULL;
}

/* One repetition of a held command's transfer.  A piece no registration
 * of fetch time covers any more is skipped and counted as
 * dma_after_return (one made since, a new owner of the memory, does not
 * count). */
static void transfer(struct nvme_sim *sim, struct sim_held *h)
{
    struct sim_xfer *x = &h->x;
    uint8_t *p = x->data;
    for (size_t i = 0; i < x->nsegs && !sim->dma_stopped; i++) {
        const struct sim_seg *s = &x->segs[i];
        if (s->rid && sim_region_alive(sim, s->rid, s->bus, s->len, x->to_host)) {
            uint8_t *va = (uint8_t *)(uintptr_t)(s->bus ^ NVME_SIM_BUS_XOR);
            sim_dev_copy(sim, va, p, s->len, x->to_host, "hung command");
        } else if (s->rid) {
            sim->st.dma_after_return++;
            if (!h->warned)
                sim_msg(sim,
                        "DMA AFTER RETURN: hung command opc 0x%02x cid %u still %s its buffer "
                        "at bus 0x%llx, which the host freed/unmapped; access skipped",
                        h->opc, h->cid, x->to_host ? "writes" : "reads",
                        (unsigned long long)s->bus);
            h->warned = true;
        } else if (x->to_host) { /* spans several regions: the general check */
            sim_dma_write(sim, s->bus, p, s->len, "hung command");
        } else {
            sim_dma_read(sim, s->bus, p, s->len, "hung command");
        }
        p += s->len;
    }
}

/* The device keeps moving a held command's data so that a buffer the core
 * hands back early is caught (dma_after_return) or corrupted.  The core
 * hands a buffer back, or reuses one, only after an event the simulator
 * sees: its own DMA calls, MMIO, wake (sim_held_due), or a completion the
 * device posts.  The transfers repeat at the first step after any such
 * event; while nothing happens but time passing (now_us, sleep_us, wait
 * in 1 us steps, nvme_sim_advance: sim_idle_tick) they repeat once per
 * SIM_HELD_PERIOD_US instead of at every step, where a 16 KiB read held
 * up to its 220 ms timeout cost 220,000 copies (minutes under ASan), and
 * a 443 KB write held while a workload polled every 20 us simulated made
 * 7 ms of simulated time pass per real second. */
void sim_held_due(struct nvme_sim *sim) { sim->held_due = true; }

/* A late command's time came: executed for real (its data moves once
 * more, the media changes now), its CQE posted.  False while its CQ is
 * full (it waits for the next step). */
static bool late_finish(struct nvme_sim *sim, struct sim_held *h)
{
    uint16_t cqid = h->cqid;
    if (cqid >= sim->nq || !sim->cq[cqid].live)
        return true; /* nowhere to post it */
    struct sim_cq *cq = &sim->cq[cqid];
    if ((cq->tail + 1) % cq->size == cq->head && !sim_dbbuf_cq_room(sim, cqid))
        return false;
    uint32_t dw0 = 0;
    uint64_t zt = sim->st.zone_writes_together; /* counted at the fetch */
    uint16_t sf = sim_nvm_exec(sim, &h->sqe, &dw0);
    sim->st.zone_writes_together = zt;
    struct nvme_cqe cqe = {.dw0 = dw0,
                           .sqhd = (uint16_t)sim->sq[h->sqid].head,
                           .sqid = h->sqid,
                           .cid = h->cid,
                           .status = (uint16_t)(sf << 1)};
    if (!sim_post_cqe(sim, cqid, &cqe))
        sim_cid_done(sim, h->sqid, h->cid);
    return true;
}

void sim_held_step(struct nvme_sim *sim)
{
    if (sim->gone || sim->dma_stopped)
        return;
    if (sim->tick_idle && !sim->held_due && sim->now - sim->held_at < SIM_HELD_PERIOD_US)
        return;
    /* Bare time: each SIM_HELD_PERIOD_US of it a step for a late command
     * (one nvme_sim_advance of a second is not one step but a thousand). */
    uint64_t bare = sim->tick_idle ? (sim->now - sim->held_at) / SIM_HELD_PERIOD_US : 1;
    sim->held_due = false;
    sim->held_at = sim->now;
    bool run = (sim->csts & NVME_CSTS_RDY) && !(sim->csts & (NVME_CSTS_CFS | NVME_CSTS_PP));
    for (size_t i = 0; i < sim->nheld;) {
        struct sim_held *h = &sim->held[i];
        if (h->draining) {
            i++;
            continue;
        }
        for (uint64_t k = 1; h->late && k < bare && h->steps; k++) {
            if (h->repeat)
                transfer(sim, h);
            h->steps--;
        }
        if (h->late && h->steps == 0) {
            if (run && late_finish(sim, h)) {
                sim_xfer_free(&h->x);
                sim->held[i] = sim->held[--sim->nheld];
                continue;
            }
            i++;
            continue;
        }
        if (!h->late || h->repeat)
            transfer(sim, h);
        if (h->late)
            h->steps--;
        i++;
    }
}

/* xorshift32 over cfg.dma_timing_seed (not 0 here; each seed its own). */
static uint32_t late_rand(struct nvme_sim *sim)
{
    uint32_t x = sim->late_rng ? sim->late_rng : sim->cfg.dma_timing_seed;
    x ^= x << 13;
    x ^= x >> 17;
    x ^= x << 5;
    sim->late_rng = x;
    return x;
}

/* cfg.dma_timing_seed: the seed picks, per I/O Read or Write, one of
 *  - data and CQE now, inside the fetch (as without the mode);
 *  - late: checked now in capture mode (as a hung command), its buffer
 *    read (Write) or written with the data of the moment (Read) now or
 *    not, again at each of the next 0-3 steps or not, then executed for
 *    real at the step after (the data moves once more, the media changes)
 *    and completed.
 * A step is a sim_held_step that ran (after an OSAL call, MMIO or a CQE,
 * or each SIM_HELD_PERIOD_US of bare time).  A late command is a held
 * command for CC.EN 1->0 (one last transfer at the end of the disable
 * window, no CQE), Delete I/O SQ and Abort.  A command that fails its
 * checks completes now; the capture's side effects on the statistics are
 * undone (the real execution counts them). */
bool sim_late_take(struct nvme_sim *sim, uint16_t qid, const struct nvme_sqe *sqe)
{
    if (!sim->cfg.dma_timing_seed || qid == 0 ||
        (sqe->opc != NVME_CMD_READ && sqe->opc != NVME_CMD_WRITE))
        return false;
    uint32_t r = late_rand(sim);
    if (r % 4u == 0)
        return false;
    if (sim->nheld == sim->held_cap) {
        size_t ncap = sim->held_cap ? sim->held_cap * 2 : 8;
        struct sim_held *n = realloc(sim->held, ncap * sizeof(*n));
        if (!n)
            return false;
        sim->held = n;
        sim->held_cap = ncap;
    }
    struct sim_held *h = &sim->held[sim->nheld];
    *h = (struct sim_held){.sqid = qid,
                           .cqid = sim->sq[qid].cqid,
                           .cid = sqe->cid,
                           .opc = sqe->opc,
                           .late = true,
                           .repeat = (r >> 4) & 1u,
                           .steps = (uint8_t)((r >> 2) % 4u),
                           .sqe = *sqe};
    struct nvme_sim_stats st = sim->st;
    uint64_t ur = sim->units_read;
    uint32_t dw0 = 0;
    sim->xfer_capture = &h->x;
    (void)sim_nvm_exec(sim, sqe, &dw0);
    sim->xfer_capture = NULL;
    uint64_t zt = sim->st.zone_writes_together; /* a fetch's (late_finish: not) */
    sim->st = st;
    sim->st.zone_writes_together = zt;
    sim->units_read = ur;
    if (!h->x.nsegs) { /* failed its checks (or no memory): completes now */
        sim_xfer_free(&h->x);
        return false;
    }
    sim->nheld++;
    if ((r >> 5) & 1u)
        transfer(sim, h); /* data moves at fetch too */
    return true;
}

void sim_held_drop(struct nvme_sim *sim)
{
    for (size_t i = 0; i < sim->nheld; i++)
        sim_xfer_free(&sim->held[i].x);
    sim->nheld = 0;
    sim->npend_abort = 0;
}

/* CC.EN 1->0: the commands stop; each transfers once more at the end of
 * the disable window (sim_held_drain). */
void sim_held_disable(struct nvme_sim *sim)
{
    for (size_t i = 0; i < sim->nheld; i++)
        sim->held[i].draining = true;
    sim->npend_abort = 0;
}

void sim_held_drain(struct nvme_sim *sim)
{
    if (!sim->gone && !sim->dma_stopped)
        for (size_t i = 0; i < sim->nheld; i++)
            transfer(sim, &sim->held[i]);
    sim_held_drop(sim);
}

/* Delete I/O Submission Queue (§5.6): the commands of that SQ still in
 * the device complete with Command Aborted due to SQ Deletion. */
void sim_held_sq_deleted(struct nvme_sim *sim, uint16_t sqid)
{
    for (size_t i = 0; i < sim->nheld;) {
        struct sim_held *h = &sim->held[i];
        if (h->sqid != sqid || h->draining) {
            i++;
            continue;
        }
        struct nvme_cqe cqe = {
            .sqhd = (uint16_t)sim->sq[sqid].head,
            .sqid = sqid,
            .cid = h->cid,
            .status = (uint16_t)(NVME_SF(NVME_SCT_GENERIC, NVME_SC_ABORT_SQ_DELETION) << 1)};
        uint16_t cqid = h->cqid;
        uint8_t opc = h->opc;
        sim_xfer_free(&h->x);
        *h = sim->held[--sim->nheld];
        sim_post_cqe_wait(sim, cqid, &cqe, opc);
    }
    for (unsigned i = 0; i < sim->npend_abort;)
        if (sim->pend_abort[i].sqid == sqid)
            sim->pend_abort[i] = sim->pend_abort[--sim->npend_abort];
        else
            i++;
}

bool sim_pend_abort_take(struct nvme_sim *sim, uint16_t sqid, uint16_t cid)
{
    for (unsigned i = 0; i < sim->npend_abort; i++) {
        if (sim->pend_abort[i].sqid == sqid && sim->pend_abort[i].cid == cid) {
            sim->pend_abort[i] = sim->pend_abort[--sim->npend_abort];
            return true;
        }
    }
    return false;
}

/* Aborts still in the device: hung, or executed with their completion
 * held back (NVME_SIM_FAULT_DELAY). */
static unsigned aborts_outstanding(const struct nvme_sim *sim)
{
    unsigned n = 0;
    for (size_t i = 0; i < sim->nheld; i++)
        n += sim->held[i].sqid == 0 && sim->held[i].opc == NVME_ADMIN_ABORT;
    for (size_t i = 0; i < sim->ndelayed; i++)
        n += sim->delayed[i].sqid == 0 && sim->delayed[i].opc == NVME_ADMIN_ABORT;
    return n;
}

static void complete_aborted(struct nvme_sim *sim, uint16_t sqid, uint16_t cqid, uint16_t cid,
                             uint8_t opc)
{
    struct nvme_cqe cqe = {.sqhd = (uint16_t)sim->sq[sqid].head,
                           .sqid = sqid,
                           .cid = cid,
                           .status = (uint16_t)(SF_ABORT_REQ << 1)};
    sim_post_cqe_wait(sim, cqid, &cqe, opc);
}

/* Is command `cid` still between head and tail of SQ `sqid` (deferred mode)? */
static bool not_fetched(struct nvme_sim *sim, uint16_t sqid, uint16_t cid)
{
    if (sqid >= sim->nq || !sim->sq[sqid].live)
        return false;
    struct sim_sq *sq = &sim->sq[sqid];
    for (uint32_t i = sq->head; i != sq->tail; i = (i + 1) % sq->size) {
        struct nvme_sqe e;
        if (!sim_dma_read(sim, sq->bus + (uint64_t)i * sizeof(e), &e, sizeof(e), "SQ entry"))
            return false;
        if (e.cid == cid)
            return true;
    }
    return false;
}

/* Abort (§5.1): CDW10 SQID 15:0, CID 31:16.  DW0 bit 0 = 0 when the
 * command was aborted, 1 when not. */
uint16_t sim_abort(struct nvme_sim *sim, const struct nvme_sqe *sqe, uint32_t *dw0)
{
    uint16_t sqid = (uint16_t)sqe->cdw10, cid = (uint16_t)(sqe->cdw10 >> 16);
    sim->st.aborts++;
    *dw0 = 1;
    /* An SQID naming no SQ: Invalid Field in Command, as QEMU's nvme_abort
     * (nvme_check_sqid, before anything else); it answered "not aborted". */
    if (sqid >= sim->nq || !sim->sq[sqid].live)
        return SIM_SF_GEN(NVME_SC_INVALID_FIELD);
    if (aborts_outstanding(sim) > sim->cfg.acl)
        return SF_ABORT_LIMIT;
    if (sim->cfg.abort_mode == NVME_SIM_ABORT_REFUSE)
        return 0;
    bool done = false;
    for (size_t i = 0; i < sim->nheld && !done; i++) {
        struct sim_held *h = &sim->held[i];
        if (h->sqid != sqid || h->cid != cid || h->draining)
            continue;
        uint16_t cqid = h->cqid;
        uint8_t opc = h->opc;
        sim_xfer_free(&h->x);
        *h = sim->held[--sim->nheld];
        complete_aborted(sim, sqid, cqid, cid, opc);
        done = true;
    }
    for (size_t i = 0; i < sim->ndelayed && !done; i++) {
        struct sim_delayed *d = &sim->delayed[i];
        if (d->sqid != sqid || d->cid != cid || d->room)
            continue;
        struct nvme_cqe cqe = d->cqe;
        uint16_t cqid = d->cqid;
        uint8_t opc = d->opc;
        sim->delayed[i] = sim->delayed[--sim->ndelayed];
        cqe.status = (uint16_t)(SF_ABORT_REQ << 1);
        sim_post_cqe_wait(sim, cqid, &cqe, opc);
        done = true;
    }
    for (unsigned i = 0; sqid == 0 && i < sim->aer_outstanding && !done; i++) {
        if (sim->aer_cid[i] != cid)
            continue;
        memmove(&sim->aer_cid[i], &sim->aer_cid[i + 1],
                (sim->aer_outstanding - i - 1) * sizeof(sim->aer_cid[0]));
        sim->aer_outstanding--;
        complete_aborted(sim, 0, 0, cid, NVME_ADMIN_ASYNC_EVENT);
        done = true;
    }
    if (!done && sim->npend_abort < SIM_MAX_PEND_ABORTS && not_fetched(sim, sqid, cid)) {
        sim->pend_abort[sim->npend_abort].sqid = sqid;
        sim->pend_abort[sim->npend_abort].cid = cid;
        sim->npend_abort++;
        done = true;
    }
    if (done) {
        sim->st.aborts_done++;
        *dw0 = 0;
    }
    return 0;
}
