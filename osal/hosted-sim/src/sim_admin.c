/* SPDX-License-Identifier: MIT */
/*
 * sim_admin.c - admin commands of the simulated controller (NVMe 1.4 §5):
 * Identify, Create/Delete I/O SQ/CQ, Get/Set Features, Get Log Page.
 * Abort is in sim_held.c, Asynchronous Event Request in sim_aer.c.
 */
#include <stdio.h>
#include <string.h>

#include "sim_internal.h"

#define SF_INVALID_FIELD SIM_SF_GEN(NVME_SC_INVALID_FIELD)
#define SF_INVALID_NS SIM_SF_GEN(NVME_SC_INVALID_NS)
#define SF_QID_INVALID SIM_SF_CMD(NVME_SC_QID_INVALID)
#define FID_HOST_BEHAVIOR 0x16 /* Host Behavior Support (§5.21.1.22) */

/* Maximum bytes per command, from Identify MDTS (§5.15.2.2); 0 = none. */
static uint64_t mdts_bytes(const struct nvme_sim *sim)
{
    if (!sim->cfg.mdts)
        return 0;
    return (4096ull << sim->cfg.mpsmin) << sim->cfg.mdts;
}

static void put_str(char *dst, size_t n, const char *src)
{
    memset(dst, ' ', n); /* ASCII, space padded (§5.15.2.2) */
    size_t l = strlen(src);
    memcpy(dst, src, l < n ? l : n);
}

/* Identify Controller (CNS 01h, Figure 247). */
static void id_ctrl(struct nvme_sim *sim, struct nvme_id_ctrl *id)
{
    id->vid = sim->cfg.vid;
    id->ssvid = sim->cfg.ssvid;
    put_str(id->sn, sizeof(id->sn), sim->serial);
    put_str(id->mn, sizeof(id->mn), sim->model);
    put_str(id->fr, sizeof(id->fr), sim->firmware);
    id->rab = 6;
    id->ieee[0] = 0x00; id->ieee[1] = 0x54; id->ieee[2] = 0x52;
    id->mdts = sim->cfg.mdts;
    id->cntlid = 1;
    id->ver = sim->vs;
    id->rtd3e = sim->cfg.rtd3e;
    id->cntrltype = 1; /* I/O controller */
    id->crdt1 = sim->cfg.crdt[0];
    id->crdt2 = sim->cfg.crdt[1];
    id->crdt3 = sim->cfg.crdt[2];
    id->oaes = (1u << 8) | (1u << 9); /* namespace attribute, firmware activation notices */
    id->acl = sim->cfg.acl;
    id->aerl = sim->cfg.aerl;
    id->frmw = 0x02; /* one firmware slot, slot 1 read/write */
    id->lpa = 0x04; /* bit 2: extended data (NUMDU, LPOL/LPOU) */
    id->elpe = SIM_ERR_ENTRIES - 1; /* 64 error log entries */
    id->npss = 0;
    id->wctemp = 343; /* 70 C */
    id->cctemp = 358; /* 85 C */
    uint64_t total = 0;
    for (unsigned i = 0; i < sim->ns_count; i++)
        total += sim->ns[i]->blocks * sim->ns[i]->lba_size;
    sim_put_u128(id->tnvmcap, total, 0);
    id->sqes = (NVME_SQES_LOG2 << 4) | NVME_SQES_LOG2;
    id->cqes = (NVME_CQES_LOG2 << 4) | NVME_CQES_LOG2;
    id->nn = sim->nn_override ? sim->nn_override : sim_ns_max_nsid(sim);
    id->oncs = NVME_ONCS_WRITE_ZEROES;
    /* VWC bit 0 present; bits 2:1 = 11b: Flush with NSID FFFFFFFFh supported. */
    id->vwc = sim->cfg.vwc ? (uint8_t)(NVME_VWC_PRESENT | 0x6) : 0;
    snprintf(id->subnqn, sizeof(id->subnqn), "nqn.2024-01.org.nvme-core:sim:%s", sim->serial);
    /* Power state 0: 25.00 W (MP in 0.01 W units). */
    id->psd[0].raw[0] = 0xc4;
    id->psd[0].raw[1] = 0x09;
}

/* FLBAS (NVMe 2.0 Figure 276): format index bits 3:0 low, 6:5 high. */
static uint8_t flbas_encode(unsigned idx)
{
    return (uint8_t)((idx & 0xfu) | (((idx >> 4) & 0x3u) << 5));
}

/* LBA Format i (4 bytes at byte 128 + 4 i): MS 15:0, LBADS 23:16, RP 25:24. */
static void put_lbaf(uint8_t *id, unsigned i, uint16_t ms, uint8_t lbads)
{
    uint8_t *f = id + 128 + 4 * i;
    f[0] = (uint8_t)ms;
    f[1] = (uint8_t)(ms >> 8);
    f[2] = lbads;
    f[3] = 0;
}

/* NVMe 2.0: nlbaf+1 formats, the one in use at flbas_index, the others
 * distinct (LBADS, MS) pairs. */
static void id_ns_formats(const struct sim_ns *ns, struct nvme_id_ns *id)
{
    static const uint8_t sizes[] = {9, 12, 10, 11, 13, 14, 15, 16};
    uint8_t *b = (uint8_t *)id;
    unsigned k = 0;
    for (unsigned i = 0; i <= ns->nlbaf; i++) {
        if (i == ns->flbas_index) {
            put_lbaf(b, i, 0, ns->lbads);
            continue;
        }
        uint8_t lbads;
        uint16_t ms;
        do {
            lbads = sizes[k % 8];
            ms = (uint16_t)(8 * (k / 8));
            k++;
        } while (lbads == ns->lbads && ms == 0);
        put_lbaf(b, i, ms, lbads);
    }
    id->nlbaf = ns->nlbaf;
    id->flbas = flbas_encode(ns->flbas_index);
}

/* Identify Namespace (CNS 00h, Figure 245), with optional corruption. */
static void id_ns(struct sim_ns *ns, struct nvme_id_ns *id)
{
    id->nsze = id->ncap = id->nuse = ns->blocks;
    if (ns->nlbaf) {
        id_ns_formats(ns, id);
        goto ids;
    }
    /* Formats: 512 and 4096 always listed, the current one added if other. */
    id->lbaf[0].lbads = 9;
    id->lbaf[1].lbads = 12;
    id->nlbaf = 1;
    if (ns->lbads == 9) {
        id->flbas = 0;
    } else if (ns->lbads == 12) {
        id->flbas = 1;
    } else {
        id->lbaf[2].lbads = ns->lbads;
        id->nlbaf = 2;
        id->flbas = 2;
    }
ids:
    for (int i = 0; i < 8; i++)
        id->eui64[i] = (uint8_t)(i < 4 ? 0x4e564d45u >> (8 * (3 - i)) : ns->nsid >> (8 * (7 - i)));
    unsigned idx = (id->flbas & 0xfu) | (((id->flbas >> 5) & 0x3u) << 4);
    if (ns->corrupt & NVME_SIM_CORRUPT_LBADS)
        ((uint8_t *)id)[128 + 4 * idx + 2] = ns->corrupt_lbads;
    if (ns->corrupt & NVME_SIM_CORRUPT_NSZE0)
        id->nsze = id->ncap = id->nuse = 0;
    if (ns->corrupt & NVME_SIM_CORRUPT_FLBAS)
        id->flbas = id->nlbaf < 63 ? flbas_encode(id->nlbaf + 1u) : 0x0f;
}

static uint16_t identify(struct nvme_sim *sim, const struct nvme_sqe *sqe)
{
    static uint8_t buf[NVME_IDENTIFY_DATA_SIZE];
    uint8_t cns = (uint8_t)(sqe->cdw10 & 0xff);
    uint32_t nn = sim->nn_override ? sim->nn_override : sim_ns_max_nsid(sim);
    memset(buf, 0, sizeof(buf));
    switch (cns) {
    case NVME_CNS_NS: {
        struct sim_ns *ns = sim_ns_find(sim, sqe->nsid);
        if (ns)
            id_ns(ns, (struct nvme_id_ns *)(void *)buf);
        else if (sqe->nsid == 0 || sqe->nsid > nn)
            return SF_INVALID_NS; /* an inactive NSID <= NN gets zeros (§5.15.2.1) */
        break;
    }
    case NVME_CNS_CTRL:
        id_ctrl(sim, (struct nvme_id_ctrl *)(void *)buf);
        break;
    case NVME_CNS_ACTIVE_NS_LIST: { /* §5.15.2.3: NSIDs > CDW1.NSID, ascending */
        if (sqe->nsid >= 0xfffffffeu)
            return SF_INVALID_NS;
        uint32_t *list = (uint32_t *)(void *)buf;
        unsigned n = 0;
        for (unsigned i = 0; i < sim->ns_count && n < NVME_ACTIVE_NS_LIST_ENTRIES; i++)
            if (sim->ns[i]->nsid > sqe->nsid)
                list[n++] = sim->ns[i]->nsid;
        break;
    }
    default:
        return SF_INVALID_FIELD;
    }
    return sim_prp_copy(sim, sqe, buf, sizeof(buf), true);
}

/* Create I/O Completion Queue (§5.3). */
static uint16_t create_cq(struct nvme_sim *sim, const struct nvme_sqe *sqe)
{
    uint16_t qid = (uint16_t)sqe->cdw10;
    uint32_t qsize = (sqe->cdw10 >> 16) + 1;
    bool pc = sqe->cdw11 & NVME_CREATE_CQ_PC, ien = sqe->cdw11 & NVME_CREATE_CQ_IEN;
    uint16_t iv = (uint16_t)(sqe->cdw11 >> 16);
    if (qid == 0 || qid >= sim->nq || sim->cq[qid].live)
        return SF_QID_INVALID;
    if (qsize < 2 || qsize > NVME_CAP_MQES(sim->cap) + 1u)
        return SIM_SF_CMD(NVME_SC_QUEUE_SIZE);
    if (!pc) /* CAP.CQR = 1: contiguous queues required */
        return SF_INVALID_FIELD;
    if (ien && iv >= (sim->irq_intx ? 1u : (sim->cfg.irq_vectors ? sim->cfg.irq_vectors : 1u)))
        return SIM_SF_CMD(NVME_SC_INVALID_VECTOR);
    if (sqe->prp1 & (sim->mps - 1)) /* memory page aligned (§5.3, PRP Entry 1) */
        return SF_INVALID_FIELD;
    if (!sim_dma_probe(sim, sqe->prp1, 1, "CQ base") ||
        !sim_dma_probe(sim, sqe->prp1 + qsize * 16ull - 1, 1, "CQ end"))
        return (uint16_t)NVME_SF(NVME_SCT_GENERIC, NVME_SC_DATA_XFER_ERROR);
    sim->cq[qid] = (struct sim_cq){
        .live = true, .bus = sqe->prp1, .size = qsize, .phase = 1, .ien = ien, .iv = iv};
    sim->nq_locked = true;
    return 0;
}

/* Create I/O Submission Queue (§5.4). */
static uint16_t create_sq(struct nvme_sim *sim, const struct nvme_sqe *sqe)
{
    uint16_t qid = (uint16_t)sqe->cdw10;
    uint32_t qsize = (sqe->cdw10 >> 16) + 1;
    uint16_t cqid = (uint16_t)(sqe->cdw11 >> 16);
    if (qid == 0 || qid >= sim->nq || sim->sq[qid].live)
        return SF_QID_INVALID;
    if (qsize < 2 || qsize > NVME_CAP_MQES(sim->cap) + 1u)
        return SIM_SF_CMD(NVME_SC_QUEUE_SIZE);
    if (cqid == 0 || cqid >= sim->nq || !sim->cq[cqid].live)
        return SIM_SF_CMD(NVME_SC_CQ_INVALID);
    if (!(sqe->cdw11 & NVME_CREATE_SQ_PC))
        return SF_INVALID_FIELD;
    if (sqe->prp1 & (sim->mps - 1))
        return SF_INVALID_FIELD;
    if (!sim_dma_probe(sim, sqe->prp1, 1, "SQ base") ||
        !sim_dma_probe(sim, sqe->prp1 + qsize * 64ull - 1, 1, "SQ end"))
        return (uint16_t)NVME_SF(NVME_SCT_GENERIC, NVME_SC_DATA_XFER_ERROR);
    sim->sq[qid] = (struct sim_sq){.live = true, .bus = sqe->prp1, .size = qsize, .cqid = cqid};
    sim->cq[cqid].nsq++;
    sim->nq_locked = true;
    return 0;
}

/* Delete I/O Submission Queue (§5.7): commands not yet fetched are dropped,
 * hung ones complete with Command Aborted due to SQ Deletion. */
static uint16_t delete_sq(struct nvme_sim *sim, const struct nvme_sqe *sqe)
{
    uint16_t qid = (uint16_t)sqe->cdw10;
    if (qid == 0 || qid >= sim->nq || !sim->sq[qid].live)
        return SF_QID_INVALID;
    sim_held_sq_deleted(sim, qid);
    sim->cq[sim->sq[qid].cqid].nsq--;
    memset(&sim->sq[qid], 0, sizeof(sim->sq[qid]));
    return 0;
}

/* Delete I/O Completion Queue (§5.6): its SQs must be deleted first. */
static uint16_t delete_cq(struct nvme_sim *sim, const struct nvme_sqe *sqe)
{
    uint16_t qid = (uint16_t)sqe->cdw10;
    if (qid == 0 || qid >= sim->nq || !sim->cq[qid].live)
        return SF_QID_INVALID;
    if (sim->cq[qid].nsq)
        return SIM_SF_CMD(NVME_SC_INVALID_QUEUE_DELETION);
    memset(&sim->cq[qid], 0, sizeof(sim->cq[qid]));
    for (size_t i = 0; i < sim->ndelayed;) /* held completions for it vanish */
        if (sim->delayed[i].cqid == qid)
            sim->delayed[i] = sim->delayed[--sim->ndelayed];
        else
            i++;
    return 0;
}

static bool feature_known(uint8_t fid)
{
    switch (fid) {
    case NVME_FEAT_ARBITRATION:
    case NVME_FEAT_POWER_MGMT:
    case NVME_FEAT_TEMP_THRESH:
    case NVME_FEAT_ERROR_RECOVERY:
    case NVME_FEAT_VOLATILE_WC:
    case NVME_FEAT_NUM_QUEUES:
    case NVME_FEAT_IRQ_COALESCE:
    case NVME_FEAT_IRQ_CONFIG:
    case NVME_FEAT_ASYNC_EVENT:
    case FID_HOST_BEHAVIOR:
        return true;
    default:
        return false;
    }
}

/* Default feature values (§5.21.1), restored by a controller reset. */
void sim_features_reset(struct nvme_sim *sim)
{
    memset(sim->feat, 0, sizeof(sim->feat));
    memset(sim->hbs, 0, sizeof(sim->hbs)); /* ACRE 0 */
    sim->feat[NVME_FEAT_ARBITRATION] = 0x3; /* AB = 8 commands */
    sim->feat[NVME_FEAT_TEMP_THRESH] = 343;
    sim->feat[NVME_FEAT_VOLATILE_WC] = sim->cfg.vwc ? 1 : 0;
    uint32_t n = (uint32_t)(sim->nq - 1 ? sim->nq - 2 : 0);
    sim->feat[NVME_FEAT_NUM_QUEUES] = (n << 16) | n;
}

/* Get Features / Set Features (§5.9, §5.21). */
static uint16_t features(struct nvme_sim *sim, const struct nvme_sqe *sqe, bool set, uint32_t *dw0)
{
    uint8_t fid = (uint8_t)sqe->cdw10;
    if (!feature_known(fid))
        return SF_INVALID_FIELD;
    if (fid == NVME_FEAT_VOLATILE_WC && !sim->cfg.vwc)
        return SF_INVALID_FIELD;
    if (!set) {
        uint8_t sel = (uint8_t)((sqe->cdw10 >> 8) & 0x7);
        if (sel == 3) { /* supported capabilities: changeable, not saveable */
            *dw0 = 0x4;
            return 0;
        }
        if (sel > 3)
            return SF_INVALID_FIELD;
        if (fid == FID_HOST_BEHAVIOR) /* 512-byte data structure through the PRPs */
            return sim_prp_copy(sim, sqe, sim->hbs, sizeof(sim->hbs), true);
        if (fid == NVME_FEAT_IRQ_CONFIG)
            *dw0 = sim->feat[fid] | (uint16_t)sqe->cdw11;
        else
            *dw0 = sim->feat[fid];
        return 0;
    }
    if (sqe->cdw10 & (1u << 31)) /* SV: nothing is saveable */
        return SIM_SF_CMD(0x0d); /* Feature Identifier Not Saveable */
    switch (fid) {
    case NVME_FEAT_NUM_QUEUES: {
        /* §5.21.1.7: 0-based counts, FFFFh invalid; the reply is what the
         * controller allocated, whatever was asked. */
        if ((sqe->cdw11 & 0xffff) == 0xffff || (sqe->cdw11 >> 16) == 0xffff)
            return SF_INVALID_FIELD;
        if (sim->nq_locked)
            return SIM_SF_GEN(NVME_SC_CMD_SEQ_ERROR);
        *dw0 = sim->feat[fid];
        return 0;
    }
    case NVME_FEAT_VOLATILE_WC:
        sim->feat[fid] = sqe->cdw11 & 1u;
        break;
    case FID_HOST_BEHAVIOR: { /* byte 0: ACRE, bit 0 */
        uint8_t data[512];
        uint16_t sf = sim_prp_copy(sim, sqe, data, sizeof(data), false);
        if (sf)
            return sf;
        if (data[0] > 1)
            return SF_INVALID_FIELD;
        memcpy(sim->hbs, data, sizeof(data));
        break;
    }
    case NVME_FEAT_ASYNC_EVENT: /* bits 7:0 SMART warnings, 8 NS attribute, 9 FW activation */
        sim->feat[fid] = sqe->cdw11 & 0x3ffu;
        break;
    default:
        sim->feat[fid] = sqe->cdw11;
        break;
    }
    *dw0 = 0;
    return 0;
}

/* SMART / Health Information (§5.14.1.2, Figure 194). */
static void smart_page(struct nvme_sim *sim, struct nvme_smart_log *log)
{
    const struct nvme_sim_smart *s = &sim->smart;
    memset(log, 0, sizeof(*log));
    log->critical_warning = s->critical_warning;
    log->composite_temp = s->temperature;
    log->avail_spare = s->avail_spare;
    log->avail_spare_thresh = s->spare_thresh;
    log->percent_used = s->percent_used;
    /* Data units: thousands of 512-byte units, rounded up. */
    struct {
        uint8_t *out;
        struct nvme_u128 base;
        uint64_t add;
    } c[] = {
        {log->data_units_read, s->data_units_read, (sim->units_read + 999) / 1000},
        {log->data_units_written, s->data_units_written, (sim->units_written + 999) / 1000},
        {log->host_reads, s->host_reads, sim->st.reads},
        {log->host_writes, s->host_writes, sim->st.writes},
        {log->ctrl_busy_time, s->busy_time, 0},
        {log->power_cycles, s->power_cycles, 0},
        {log->power_on_hours, s->power_on_hours, 0},
        {log->unsafe_shutdowns, s->unsafe_shutdowns, 0},
        {log->media_errors, s->media_errors, 0},
        {log->num_err_log_entries, s->err_log_entries, sim->err_count},
    };
    for (size_t i = 0; i < sizeof(c) / sizeof(c[0]); i++) {
        uint64_t lo = c[i].base.lo + c[i].add;
        uint64_t hi = c[i].base.hi + (lo < c[i].base.lo);
        sim_put_u128(c[i].out, lo, hi);
    }
    log->warning_temp_time = s->warning_temp_time;
    log->critical_comp_time = s->critical_temp_time;
    memcpy(log->temp_sensor, s->temp_sensor, sizeof(log->temp_sensor));
}

/* Get Log Page (§5.14): NUMD = (NUMDU:NUMDL) + 1 dwords from offset LPO;
 * RAE (CDW10 bit 15) clear unmasks the event type that named this page. */
static uint16_t get_log_page(struct nvme_sim *sim, const struct nvme_sqe *sqe)
{
    static uint8_t page[4096];
    uint8_t lid = (uint8_t)sqe->cdw10;
    bool rae = sqe->cdw10 & (1u << 15);
    uint64_t numd = (((uint64_t)(sqe->cdw11 & 0xffff) << 16) | (sqe->cdw10 >> 16)) + 1;
    uint64_t len = numd * 4, lpo = ((uint64_t)sqe->cdw13 << 32) | sqe->cdw12;
    uint64_t max = mdts_bytes(sim);
    size_t size;
    memset(page, 0, sizeof(page));
    switch (lid) {
    case NVME_LID_ERROR: /* Figure 193: ELPE+1 entries of 64 bytes */
        sim_error_log_page(sim, page, &size);
        break;
    case 0x04: /* Changed Namespace List */
        sim_changed_ns_page(sim, page, &size);
        break;
    case NVME_LID_SMART:
        /* LPA bit 0 clear: controller scope only (NSID 0 or FFFFFFFFh). */
        if (sqe->nsid != 0 && sqe->nsid != NVME_NSID_ALL)
            return SF_INVALID_FIELD;
        smart_page(sim, (struct nvme_smart_log *)(void *)page);
        size = 512;
        break;
    case NVME_LID_FW_SLOT: /* Figure 197: AFI = slot 1, FRS1 */
        page[0] = 1;
        memcpy(page + 8, sim->firmware, strlen(sim->firmware) < 8 ? strlen(sim->firmware) : 8);
        size = 512;
        break;
    default:
        return SIM_SF_CMD(NVME_SC_INVALID_LOG_PAGE);
    }
    if (lpo & 3u || lpo > size)
        return SF_INVALID_FIELD;
    if ((max && len > max) || len > sizeof(page))
        return SF_INVALID_FIELD;
    /* Bytes past the end of the log page read as zeros. */
    static uint8_t out[4096];
    memset(out, 0, sizeof(out));
    memcpy(out, page + lpo, (size_t)(size - lpo < len ? size - lpo : len));
    uint16_t sf = sim_prp_copy(sim, sqe, out, (size_t)len, true);
    if (!sf)
        sim_log_read(sim, lid, rae);
    return sf;
}

uint16_t sim_admin_exec(struct nvme_sim *sim, const struct nvme_sqe *sqe, uint32_t *dw0,
                        bool *no_cqe)
{
    if (sqe->flags & 0xc3) /* fused operations and SGLs are not supported */
        return SF_INVALID_FIELD;
    switch (sqe->opc) {
    case NVME_ADMIN_IDENTIFY: return identify(sim, sqe);
    case NVME_ADMIN_CREATE_CQ: return create_cq(sim, sqe);
    case NVME_ADMIN_CREATE_SQ: return create_sq(sim, sqe);
    case NVME_ADMIN_DELETE_SQ: return delete_sq(sim, sqe);
    case NVME_ADMIN_DELETE_CQ: return delete_cq(sim, sqe);
    case NVME_ADMIN_GET_FEATURES: return features(sim, sqe, false, dw0);
    case NVME_ADMIN_SET_FEATURES: return features(sim, sqe, true, dw0);
    case NVME_ADMIN_GET_LOG_PAGE: return get_log_page(sim, sqe);
    case NVME_ADMIN_ABORT: return sim_abort(sim, sqe, dw0);
    case NVME_ADMIN_ASYNC_EVENT: return sim_aer_request(sim, sqe, no_cqe);
    default:
        return SIM_SF_GEN(NVME_SC_INVALID_OPCODE);
    }
}
