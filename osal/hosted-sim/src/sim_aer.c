/* SPDX-License-Identifier: MIT */
/*
 * sim_aer.c - Asynchronous Event Requests and events (NVMe 1.4 §5.2,
 * §5.14.1.4), the Error Information log (§5.14.1.1) and the Changed
 * Namespace List log (§5.14.1.4) they name, and the test-facing calls
 * that post events.
 */
#include <string.h>

#include "sim_internal.h"

#define SF_AER_LIMIT SIM_SF_CMD(0x05) /* Asynchronous Event Request Limit Exceeded */
#define AEC_NS_ATTR (1u << 8)         /* feature 0Bh: Namespace Attribute Notices */

#define LOCK(sim) pthread_mutex_lock(&((struct nvme_sim *)(sim))->mtx)
#define UNLOCK(sim) pthread_mutex_unlock(&((struct nvme_sim *)(sim))->mtx)

/* Complete outstanding requests, oldest first, with queued events whose
 * type is not masked (§5.2: one event of a type until its log is read). */
void sim_aer_dispatch(struct nvme_sim *sim)
{
    while (sim->aer_outstanding && !sim->gone && !sim->dma_stopped && sim->cq[0].live) {
        unsigned e = 0;
        while (e < sim->nev && sim->ae_masked[sim->evq[e].type & 7])
            e++;
        /* A full admin CQ: the completion waits for room (sim_process_all
         * after the head moves), as in QEMU's CQ request list; before, it
         * was lost, and the event with it. */
        if (e == sim->nev || !sim_dbbuf_cq_room(sim, 0))
            return;
        struct sim_event ev = sim->evq[e];
        memmove(&sim->evq[e], &sim->evq[e + 1], (sim->nev - e - 1) * sizeof(ev));
        sim->nev--;
        uint16_t cid = sim->aer_cid[0];
        memmove(&sim->aer_cid[0], &sim->aer_cid[1],
                (sim->aer_outstanding - 1) * sizeof(sim->aer_cid[0]));
        sim->aer_outstanding--;
        sim->ae_masked[ev.type & 7] = true;
        sim->ae_mask_lid[ev.type & 7] = ev.lid;
        /* Completion DW0: type 2:0, information 15:8, log page 23:16. */
        struct nvme_cqe cqe = {.dw0 = (uint32_t)(ev.type & 7) | ((uint32_t)ev.info << 8) |
                                      ((uint32_t)ev.lid << 16),
                               .sqhd = (uint16_t)sim->sq[0].head,
                               .sqid = 0,
                               .cid = cid};
        sim_post_cqe(sim, 0, &cqe);
        sim->st.aers_completed++;
    }
}

/* Asynchronous Event Request (§5.2): held until an event, AERL+1 at most. */
uint16_t sim_aer_request(struct nvme_sim *sim, const struct nvme_sqe *sqe, bool *no_cqe)
{
    unsigned limit = (unsigned)sim->cfg.aerl + 1;
    if (limit > SIM_MAX_AERS)
        limit = SIM_MAX_AERS;
    if (sim->aer_outstanding >= limit)
        return SF_AER_LIMIT;
    sim->aer_cid[sim->aer_outstanding++] = sqe->cid;
    *no_cqe = true;
    sim_aer_dispatch(sim);
    return 0;
}

int sim_event_post(struct nvme_sim *sim, uint8_t type, uint8_t info, uint8_t lid)
{
    if (sim->gone)
        return -1;
    for (unsigned i = 0; i < sim->nev; i++) /* the same event is queued once */
        if (sim->evq[i].type == type && sim->evq[i].info == info && sim->evq[i].lid == lid)
            return 0;
    if (sim->nev == SIM_MAX_EVENTS)
        return -1;
    sim->evq[sim->nev++] = (struct sim_event){(uint8_t)(type & 7), info, lid};
    sim_aer_dispatch(sim);
    return 0;
}

/* Changed Namespace List (§5.14.1.4): ascending NSIDs, FFFFFFFFh in entry
 * 0 once more than 1024 changed. */
void sim_ns_changed(struct nvme_sim *sim, uint32_t nsid)
{
    if (!sim->changed_overflow) {
        unsigned i = 0;
        while (i < sim->nchanged && sim->changed_ns[i] < nsid)
            i++;
        if (i == sim->nchanged || sim->changed_ns[i] != nsid) {
            if (sim->nchanged == SIM_CHANGED_NS_MAX) {
                sim->changed_overflow = true;
            } else {
                memmove(&sim->changed_ns[i + 1], &sim->changed_ns[i],
                        (sim->nchanged - i) * sizeof(sim->changed_ns[0]));
                sim->changed_ns[i] = nsid;
                sim->nchanged++;
            }
        }
    }
    if (sim->feat[NVME_FEAT_ASYNC_EVENT] & AEC_NS_ATTR)
        sim_event_post(sim, NVME_SIM_AE_NOTICE, 0x00, 0x04);
}

void sim_changed_ns_page(struct nvme_sim *sim, uint8_t *page, size_t *size)
{
    uint32_t *list = (uint32_t *)(void *)page;
    if (sim->changed_overflow)
        list[0] = 0xffffffffu;
    else
        memcpy(list, sim->changed_ns, sim->nchanged * sizeof(uint32_t));
    *size = SIM_CHANGED_NS_MAX * 4;
}

/* Error Information (§5.14.1.1): ELPE+1 64-byte entries, newest first;
 * unused entries are zero. */
void sim_error_log_page(struct nvme_sim *sim, uint8_t *page, size_t *size)
{
    /* ELPE + 1 entries (Figure 193): a firmware with a smaller ELPE keeps
     * the newest of them. */
    size_t n = sim->err_entries != 0 ? sim->err_entries : SIM_ERR_ENTRIES;
    memcpy(page, sim->err_log, n * sizeof(sim->err_log[0]));
    *size = n * sizeof(sim->err_log[0]);
}

/* Reservation Notification (NVMe 2.0 §5.16.1.24, 64 bytes): the oldest
 * page not read yet (Log Page Count, type, Number of Available Log Pages
 * after it, NSID), or an empty page (all zeros) when there is none. */
void sim_resv_notif_page(struct nvme_sim *sim, uint8_t *page, size_t *size)
{
    *size = 64;
    if (sim->nresv_notif == 0)
        return;
    const struct sim_resv_notif *n = &sim->resv_notif[0];
    for (int i = 0; i < 8; i++)
        page[i] = (uint8_t)(n->count >> (8 * i));
    page[8] = n->type;
    page[9] = (uint8_t)(sim->nresv_notif - 1u);
    for (int i = 0; i < 4; i++)
        page[12 + i] = (uint8_t)(n->nsid >> (8 * i));
}

void sim_log_read(struct nvme_sim *sim, uint8_t lid, bool rae)
{
    if (lid == 0x04) { /* the list is cleared when read */
        sim->nchanged = 0;
        sim->changed_overflow = false;
    }
    if (lid == NVME_LID_RESV_NOTIF && sim->nresv_notif != 0 &&
        !sim->cfg.resv_notif_stuck) { /* the page read is removed */
        sim->nresv_notif--;
        memmove(&sim->resv_notif[0], &sim->resv_notif[1],
                sim->nresv_notif * sizeof(sim->resv_notif[0]));
    }
    if (rae)
        return;
    for (unsigned t = 0; t < 8; t++)
        if (sim->ae_masked[t] && sim->ae_mask_lid[t] == lid)
            sim->ae_masked[t] = false;
    sim_aer_dispatch(sim);
}

/* --- Test-facing calls ------------------------------------------------------ */

int nvme_sim_post_event(struct nvme_sim *sim, uint8_t type, uint8_t info, uint8_t lid)
{
    LOCK(sim);
    int rc = sim_event_post(sim, type, info, lid);
    UNLOCK(sim);
    return rc;
}

void nvme_sim_smart_warning(struct nvme_sim *sim, uint8_t bits)
{
    LOCK(sim);
    sim->smart.critical_warning |= bits;
    uint32_t on = bits & sim->feat[NVME_FEAT_ASYNC_EVENT] & 0xffu;
    /* §5.2.1 SMART / Health status: 00h device reliability, 01h temperature
     * threshold, 02h spare below threshold. */
    if (on & 0x1u)
        sim_event_post(sim, NVME_SIM_AE_SMART, 0x02, NVME_LID_SMART);
    if (on & 0x2u)
        sim_event_post(sim, NVME_SIM_AE_SMART, 0x01, NVME_LID_SMART);
    if (on & 0x1cu)
        sim_event_post(sim, NVME_SIM_AE_SMART, 0x00, NVME_LID_SMART);
    UNLOCK(sim);
}

int nvme_sim_resv_notify(struct nvme_sim *sim, uint32_t nsid, uint8_t type)
{
    LOCK(sim);
    int rc = -1;
    if (sim->nresv_notif < SIM_RESV_NOTIF_MAX) {
        struct sim_resv_notif *n = &sim->resv_notif[sim->nresv_notif++];
        n->count = ++sim->resv_notif_count;
        n->nsid = nsid;
        n->type = type;
        /* I/O Command specific status, Reservation Log Page Available
         * (§5.2.1); queued once while one is pending. */
        rc = sim_event_post(sim, NVME_SIM_AE_IO_CMD, 0x00, NVME_LID_RESV_NOTIF);
    }
    UNLOCK(sim);
    return rc;
}

void nvme_sim_error_event(struct nvme_sim *sim, uint16_t sqid, uint16_t cid, uint16_t status)
{
    LOCK(sim);
    memmove(&sim->err_log[1], &sim->err_log[0], sizeof(sim->err_log) - sizeof(sim->err_log[0]));
    uint8_t *e = sim->err_log[0];
    memset(e, 0, 64);
    uint64_t n = ++sim->err_count;
    for (int i = 0; i < 8; i++)
        e[i] = (uint8_t)(n >> (8 * i)); /* Error Count */
    e[8] = (uint8_t)sqid;
    e[9] = (uint8_t)(sqid >> 8);
    e[10] = (uint8_t)cid;
    e[11] = (uint8_t)(cid >> 8);
    uint16_t sf = (uint16_t)(status << 1); /* bits 15:1 status field, bit 0 phase */
    e[12] = (uint8_t)sf;
    e[13] = (uint8_t)(sf >> 8);
    e[14] = 0xff; /* Parameter Error Location: not specific to a field */
    e[15] = 0xff;
    e[63] = 1; /* Log Page Version 1h: the NVMe 2.0 entry (CSI, opcode) */
    sim_event_post(sim, NVME_SIM_AE_ERROR, 0x00, NVME_LID_ERROR);
    UNLOCK(sim);
}

unsigned nvme_sim_aer_outstanding(const struct nvme_sim *sim)
{
    LOCK(sim);
    unsigned n = sim->aer_outstanding;
    UNLOCK(sim);
    return n;
}

bool nvme_sim_acre(const struct nvme_sim *sim) { return sim->hbs[0] & 1u; }
