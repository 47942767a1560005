/* SPDX-License-Identifier: MIT */
/*
 * sim_admin.c - admin commands of the simulated controller (NVMe 1.4 §5):
 * Identify, Create/Delete I/O SQ/CQ, Get/Set Features, Get Log Page.
 * Abort is in sim_held.c, Asynchronous Event Request in sim_aer.c.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sim_internal.h"

#define SF_INVALID_FIELD SIM_SF_GEN(NVME_SC_INVALID_FIELD)
#define SF_INVALID_NS SIM_SF_GEN(NVME_SC_INVALID_NS)
#define SF_QID_INVALID SIM_SF_CMD(NVME_SC_QID_INVALID)
#define FID_HOST_BEHAVIOR 0x16       /* Host Behavior Support (§5.21.1.22) */
#define SC_FEAT_NOT_NS_SPECIFIC 0x0f /* command specific: Feature Not Namespace Specific */

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
    id->ieee[0] = 0x00;
    id->ieee[1] = 0x54;
    id->ieee[2] = 0x52;
    id->mdts = sim->cfg.mdts;
    id->cntlid = 1;
    id->ver = sim->vs;
    id->rtd3e = sim->cfg.rtd3e;
    id->cntrltype = 1; /* I/O controller */
    id->crdt1 = sim->cfg.crdt[0];
    id->crdt2 = sim->cfg.crdt[1];
    id->crdt3 = sim->cfg.crdt[2];
    /* namespace attribute, firmware activation notices */
    id->oaes = ((1u << 8) | (1u << 9)) & ~sim->cfg.oaes_off;
    id->acl = sim->cfg.acl;
    id->aerl = sim->cfg.aerl;
    id->frmw = sim->cfg.frmw;
    id->mtfa = sim->cfg.mtfa;
    id->fwug = sim->cfg.fwug;
    id->lpa = sim->cfg.lpa; /* bit 1 effects log, bit 2 extended data (NUMDU, LPOL/LPOU) */
    id->elpe = (uint8_t)((sim->err_entries != 0 ? sim->err_entries : SIM_ERR_ENTRIES) - 1);
    id->npss = sim->cfg.npss;
    id->oacs = sim->cfg.oacs;
    id->sanicap = sim->cfg.sanicap;
    id->hmpre = sim->cfg.hmpre;
    id->hmmin = sim->cfg.hmmin;
    id->hmminds = sim->cfg.hmminds;
    id->hmmaxd = sim->cfg.hmmaxd;
    id->fna = sim->cfg.fna;
    id->apsta = 1;
    id->wctemp = 343; /* 70 C */
    id->cctemp = 358; /* 85 C */
    uint64_t total = 0;
    for (unsigned i = 0; i < sim->ns_count; i++)
        total += sim->ns[i]->blocks * sim->ns[i]->lba_size;
    sim_put_u128(id->tnvmcap, total, 0);
    id->sqes = sim->cfg.apple_ans2 ? 0x77 : (NVME_SQES_LOG2 << 4) | NVME_SQES_LOG2;
    id->cqes = (NVME_CQES_LOG2 << 4) | NVME_CQES_LOG2;
    id->nn = sim->nn_override ? sim->nn_override : sim_ns_max_nsid(sim);
    id->oncs = sim->cfg.oncs;
    if (sim->cfg.oncs & NVME_ONCS_COPY) /* as QEMU 7.2: descriptor formats 0h and 1h */
        id->ocfs = (uint16_t)(NVME_OCFS_FORMAT0 |
                              (sim->cfg.copy_format0_only ? 0u : NVME_OCFS_FORMAT1));
    /* VWC bit 0 present; bits 2:1 = 11b: Flush with NSID FFFFFFFFh supported. */
    id->vwc = sim->cfg.vwc ? (uint8_t)(NVME_VWC_PRESENT | (sim->cfg.flush_no_bcast ? 0x4 : 0x6))
                           : 0;
    snprintf(id->subnqn, sizeof(id->subnqn), "nqn.2024-01.org.nvme-core:sim:%s", sim->serial);
    if (sim->cfg.subnqn_tail != NULL) { /* after the NUL, within the field */
        size_t at = strlen(id->subnqn) + 1u;
        size_t n = strlen(sim->cfg.subnqn_tail);
        memcpy(id->subnqn + at, sim->cfg.subnqn_tail,
               n < sizeof(id->subnqn) - at ? n : sizeof(id->subnqn) - at);
    }
    /* Power state n: 25.00 W / (n + 1) (MP in 0.01 W units; state 2 in
     * 0.0001 W units, MXPS set), entry and exit latencies growing, the
     * last one non-operational. */
    for (unsigned n = 0; n <= sim->cfg.npss && n < 32; n++) {
        uint8_t *d = id->psd[n].raw;
        uint16_t mp = (uint16_t)(2500 / (n + 1));
        uint32_t enlat = 10u * n, exlat = 20u * n;
        d[0] = (uint8_t)mp;
        d[1] = (uint8_t)(mp >> 8);
        d[3] = (uint8_t)((n == sim->cfg.npss && n ? 0x2 : 0) | (n == 2 ? 0x1 : 0)); /* NOPS, MXPS */
        memcpy(d + 4, &enlat, 4);
        memcpy(d + 8, &exlat, 4);
        d[12] = d[13] = d[14] = d[15] = (uint8_t)n;
        d[16] = 0x10; /* IDLP 16 */
        d[18] = 0x80; /* IPS 10b: 0.01 W */
        d[20] = 0x20; /* ACTP 32 */
        d[22] = 0x82; /* APW 010b, APS 10b */
    }
    sim_logpages_id_ctrl(sim, id); /* Endurance Groups, ANA */
    if (sim->cfg.secondary_ctrls != 0)
        id->oacs |= 1u << 7; /* Virtualization Management (sim_virt.c) */
}

/* FLBAS (NVM CS 1.0 Figure 97): format index bits 3:0 low, 6:5 high. */
static uint8_t flbas_encode(unsigned idx)
{
    return (uint8_t)((idx & 0xfu) | (((idx >> 4) & 0x3u) << 5));
}

/* Identify Namespace (CNS 00h, NVM CS Figure 97), with optional
 * corruption: the format list of sim_ns_formats at byte 128 + 4 i. */
static void id_ns(struct nvme_sim *sim, struct sim_ns *ns, struct nvme_id_ns *id)
{
    id->nsze = id->ncap = id->nuse = ns->blocks;
    uint8_t *b = (uint8_t *)id;
    for (unsigned i = 0; i < ns->nfmt; i++) {
        uint8_t *f = b + 128 + 4 * i;
        f[0] = (uint8_t)ns->fmt[i].ms;
        f[1] = (uint8_t)(ns->fmt[i].ms >> 8);
        f[2] = ns->fmt[i].lbads;
    }
    id->nlbaf = (uint8_t)(ns->nfmt - 1 - ns->nulbaf);
    id->nulbaf = ns->nulbaf; /* the last ones: unique capability formats */
    /* Extended LBA Formats (CTRATT.ELBAS): past the sixteenth only once
     * the host set LBAFEE (Host Behavior Support, NVMe 2.0 §5.27.1.18),
     * as QEMU's controller (nvme_set_feature_host_behavior_support). */
    if (sim->cfg.elbas && sim->hbs[2] == 0 && id->nlbaf > 15)
        id->nlbaf = 15;
    id->flbas = (uint8_t)(flbas_encode(ns->cur) | (ns->extended ? NVME_FLBAS_EXTENDED : 0));
    id->mc = 0x3;   /* metadata: extended and separate */
    id->dpc = 0x1f; /* PI Types 1-3, first or last bytes */
    id->dps = (uint8_t)(ns->pi_type | (ns->pi_first ? NVME_DPS_PI_FIRST : 0));
    id->dlfeat = sim->cfg.dlfeat;
    id->nsattr = ns->write_protected ? NVME_NSATTR_WRITE_PROTECTED : 0u;
    id->mssrl = sim->copy_id_set ? sim->copy_id_mssrl : sim->cfg.mssrl;
    id->mcl = sim->copy_id_set ? sim->copy_id_mcl : sim->cfg.mcl;
    id->msrc = sim->copy_id_set ? sim->copy_id_msrc : sim->cfg.msrc;
    id->nsfeat = 0x4; /* DAE: the Deallocated or Unwritten Logical Block error (sim_nvm.c) */
    if (sim->cfg.oncs & NVME_ONCS_RESERVATIONS) /* types 1-6 and IEKEY, no PTPL (sim_resv.c) */
        id->rescap = 0x7e | NVME_RESCAP_IEKEY;
    for (int i = 0; i < 8 && !ns->uuid_only; i++)
        id->eui64[i] = (uint8_t)(i < 4 ? 0x4e564d45u >> (8 * (3 - i)) : ns->nsid >> (8 * (7 - i)));
    id->eui64[4] ^= ns->uuid_only ? 0 : ns->ident;
    unsigned idx = (id->flbas & 0xfu) | (((id->flbas >> 5) & 0x3u) << 4);
    if (ns->corrupt & NVME_SIM_CORRUPT_LBADS)
        ((uint8_t *)id)[128 + 4 * idx + 2] = ns->corrupt_lbads;
    if (ns->corrupt & NVME_SIM_CORRUPT_NSZE0)
        id->nsze = id->ncap = id->nuse = 0;
    if (ns->corrupt & NVME_SIM_CORRUPT_NUSE)
        id->ncap = id->nuse = id->nsze + 8u;
    if (ns->corrupt & NVME_SIM_CORRUPT_NCAP0)
        id->ncap = id->nuse = 0;
    if (ns->corrupt & NVME_SIM_CORRUPT_FLBAS)
        id->flbas = id->nlbaf < 63 ? flbas_encode(id->nlbaf + 1u) : 0x0f;
    if (ns->corrupt & NVME_SIM_CORRUPT_NLBAF)
        id->nlbaf = 64;
    if (ns->corrupt & NVME_SIM_CORRUPT_DPS)
        id->dps = (uint8_t)((id->dps & ~7u) | 5u);
    sim_logpages_id_ns(sim, ns->nsid, id); /* ANAGRPID, ENDGID */
}

static uint16_t identify(struct nvme_sim *sim, const struct nvme_sqe *sqe)
{
    static _Thread_local uint8_t buf[NVME_IDENTIFY_DATA_SIZE];
    uint8_t cns = (uint8_t)(sqe->cdw10 & 0xff);
    uint32_t nn = sim->nn_override ? sim->nn_override : sim_ns_max_nsid(sim);
    memset(buf, 0, sizeof(buf));
    if (sim->cfg.apple_ans2 && cns > NVME_CNS_CTRL) /* Linux NVME_QUIRK_IDENTIFY_CNS */
        return SF_INVALID_FIELD;
    switch (cns) {
    case NVME_CNS_NS: {
        struct sim_ns *ns = sim_ns_find(sim, sqe->nsid);
        if (ns)
            id_ns(sim, ns, (struct nvme_id_ns *)(void *)buf);
        else if (sqe->nsid == NVME_NSID_ALL && (sim->cfg.oacs & NVME_OACS_NS_MGMT))
            /* capabilities common to all namespaces (§5.15.2.1): the formats */
            sim_ns_mgmt_formats((struct nvme_id_ns *)(void *)buf);
        else if (sqe->nsid == 0 || sqe->nsid > nn)
            return SF_INVALID_NS; /* an inactive NSID <= NN gets zeros (§5.15.2.1) */
        break;
    }
    case NVME_CNS_ALLOCATED_NS: { /* Namespace Management's: attached or not */
        struct sim_ns *ns = sim_ns_find(sim, sqe->nsid);
        if (!(sim->cfg.oacs & NVME_OACS_NS_MGMT))
            return SF_INVALID_FIELD;
        if (ns)
            id_ns(sim, ns, (struct nvme_id_ns *)(void *)buf);
        else if (!sim_ns_mgmt_id_detached(sim, sqe->nsid, (struct nvme_id_ns *)(void *)buf) &&
                 (sqe->nsid == 0 || sqe->nsid >= NVME_NSID_ALL))
            return SF_INVALID_NS; /* one not allocated gets zeros */
        break;
    }
    case NVME_CNS_CTRL:
        id_ctrl(sim, (struct nvme_id_ctrl *)(void *)buf);
        break;
    case NVME_CNS_ACTIVE_NS_LIST: { /* §5.15.2.3: NSIDs > CDW1.NSID, ascending */
        if (sqe->nsid >= 0xfffffffeu)
            return SF_INVALID_NS;
        if (sim->cfg.active_list_status != 0)
            return sim->cfg.active_list_status;
        uint32_t *list = (uint32_t *)(void *)buf;
        unsigned n = 0;
        if (sim->cfg.active_list[0] != 0) { /* a broken device: the list as configured */
            for (; n < 8 && sim->cfg.active_list[n] != 0; n++)
                list[n] = sim->cfg.active_list[n];
            break;
        }
        if (sim->cfg.active_list_full) { /* a hostile device: no end to it */
            uint32_t from = sqe->nsid > sim->active_list_above ? sqe->nsid : sim->active_list_above;
            for (; n < NVME_ACTIVE_NS_LIST_ENTRIES && from + n + 1u < 0xffffffffu; n++)
                list[n] = from + n + 1u;
            break;
        }
        for (unsigned i = 0; i < sim->ns_count && n < NVME_ACTIVE_NS_LIST_ENTRIES; i++)
            if (sim->ns[i]->nsid > sqe->nsid)
                list[n++] = sim->ns[i]->nsid;
        break;
    }
    default: {
        uint16_t sf = sim_identify_extra(sim, sqe, buf);
        if (sf)
            return sf;
        break;
    }
    }
    return sim_prp_copy(sim, sqe, buf, sizeof(buf), true);
}

/* Interrupt vectors the controller has for the host's configuration: 0
 * alone without MSI-X enabled (INTx, or no irq_setup), else the MSI-X
 * table's. */
static unsigned sim_vectors(const struct nvme_sim *sim)
{
    return sim->irq_intx || !sim->irq_granted || !sim->cfg.irq_vectors ? 1u : sim->cfg.irq_vectors;
}

/* Create I/O Completion Queue (§5.3). */
static uint16_t create_cq(struct nvme_sim *sim, const struct nvme_sqe *sqe)
{
    uint16_t qid = (uint16_t)sqe->cdw10;
    uint32_t qsize = (sqe->cdw10 >> 16) + 1;
    bool pc = sqe->cdw11 & NVME_CREATE_CQ_PC, ien = sqe->cdw11 & NVME_CREATE_CQ_IEN;
    uint16_t iv = (uint16_t)(sqe->cdw11 >> 16);
    if (qid == 0 || qid > sim->nq_grant || sim->cq[qid].live) /* beyond the grant (§5.21.1.7) */
        return SF_QID_INVALID;
    if (qsize < 2 || qsize > NVME_CAP_MQES(sim->cap) + 1u)
        return SIM_SF_CMD(NVME_SC_QUEUE_SIZE);
    /* The checks in QEMU's nvme_create_cq order (QID, size, base, IV,
     * PC): a command wrong in several fields gets the same status. */
    if (sqe->prp1 & (sim->mps - 1)) /* memory page aligned (§5.3, PRP Entry 1) */
        return SIM_SF_GEN(NVME_SC_PRP_OFFSET_INVALID); /* as QEMU's nvme_create_cq */
    /* IV names a vector whether or not IEN is set (§5.3, Figure 149):
     * 0 alone without MSI-X enabled (INTx, or no irq_setup), else one of
     * the MSI-X table's, as QEMU's nvme_create_cq (before: only with IEN). */
    if (iv >= sim_vectors(sim))
        return SIM_SF_CMD(NVME_SC_INVALID_VECTOR);
    if (!pc) /* CAP.CQR = 1: contiguous queues required */
        return SF_INVALID_FIELD;
    /* Every byte of the queue, not only its first and last. */
    if (!sim_dma_probe_write(sim, sqe->prp1, qsize * 16u, "CQ"))
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
    /* The checks in QEMU's nvme_create_sq order (CQID, QID, size, base,
     * PC): a command wrong in several fields gets the same status. */
    if (cqid == 0 || cqid >= sim->nq || !sim->cq[cqid].live)
        return SIM_SF_CMD(NVME_SC_CQ_INVALID);
    if (qid == 0 || qid > sim->nq_grant || sim->sq[qid].live)
        return SF_QID_INVALID;
    if (qsize < 2 || qsize > NVME_CAP_MQES(sim->cap) + 1u)
        return SIM_SF_CMD(NVME_SC_QUEUE_SIZE);
    if (sqe->prp1 & (sim->mps - 1)) /* memory page aligned (§5.4, PRP Entry 1) */
        return SIM_SF_GEN(NVME_SC_PRP_OFFSET_INVALID); /* as QEMU's nvme_create_sq */
    if (!(sqe->cdw11 & NVME_CREATE_SQ_PC))
        return SF_INVALID_FIELD;
    if (!sim_dma_probe(sim, sqe->prp1, qsize * (size_t)sim->iosqes, "SQ"))
        return (uint16_t)NVME_SF(NVME_SCT_GENERIC, NVME_SC_DATA_XFER_ERROR);
    sim->sq[qid] = (struct sim_sq){.live = true, .bus = sqe->prp1, .size = qsize, .cqid = cqid};
    sim->cq[cqid].nsq++;
    sim->nq_locked = true;
    return 0;
}

/* Delete I/O Submission Queue (§5.6): commands not yet fetched are dropped,
 * hung ones complete with Command Aborted due to SQ Deletion. */
static uint16_t delete_sq(struct nvme_sim *sim, const struct nvme_sqe *sqe)
{
    uint16_t qid = (uint16_t)sqe->cdw10;
    if (qid == 0 || qid >= sim->nq || !sim->sq[qid].live)
        return SF_QID_INVALID;
    sim_held_sq_deleted(sim, qid);
    memset(&sim->cid_busy[qid * (65536u / 8)], 0, 65536u / 8); /* its commands are over */
    sim->cq[sim->sq[qid].cqid].nsq--;
    memset(&sim->sq[qid], 0, sizeof(sim->sq[qid]));
    return 0;
}

/* Delete I/O Completion Queue (§5.6): its SQs must be deleted first.
 * Invalid Queue Deletion has DNR clear, as QEMU's nvme_del_cq: the same
 * command succeeds once those SQs are gone (before: DNR set). */
static uint16_t delete_cq(struct nvme_sim *sim, const struct nvme_sqe *sqe)
{
    uint16_t qid = (uint16_t)sqe->cdw10;
    if (qid == 0 || qid >= sim->nq || !sim->cq[qid].live)
        return SF_QID_INVALID;
    if (sim->cq[qid].nsq)
        return (uint16_t)NVME_SF(NVME_SCT_COMMAND_SPECIFIC, NVME_SC_INVALID_QUEUE_DELETION);
    memset(&sim->cq[qid], 0, sizeof(sim->cq[qid]));
    for (size_t i = 0; i < sim->ndelayed;) /* held completions for it vanish */
        if (sim->delayed[i].cqid == qid)
            sim->delayed[i] = sim->delayed[--sim->ndelayed];
        else
            i++;
    return 0;
}

static bool feature_known(struct nvme_sim *sim, uint8_t fid)
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
    case NVME_FEAT_APST:
    case FID_HOST_BEHAVIOR:
        return true;
    case NVME_FEAT_TIMESTAMP:
        return (sim->cfg.oncs & NVME_ONCS_TIMESTAMP) != 0;
    case NVME_FEAT_HOST_ID: /* with reservations */
        return (sim->cfg.oncs & NVME_ONCS_RESERVATIONS) != 0;
    case NVME_FEAT_IOCS_PROFILE:
        return sim->cfg.iocs;
    case NVME_FEAT_HOST_MEM_BUF:
        return sim->cfg.hmpre != 0;
    default:
        return sim->cfg.vendor_fid >= 0xc0 && fid == sim->cfg.vendor_fid;
    }
}

/* Bytes of cfg.vendor_fid's data structure (4096 unless told). */
static size_t vendor_feat_len(const struct nvme_sim *sim)
{
    uint32_t n = sim->cfg.vendor_feat_len;
    return n == 0 ? 4096u : n < sizeof(sim->vendor_feat) ? n : sizeof(sim->vendor_feat);
}

/* Changeable features (Set Features, SEL 011b bit 1): all, or with
 * cfg.qemu_feature_caps those QEMU's nvme_feature_cap marks so: not
 * Arbitration, Power Management, Interrupt Coalescing, Interrupt Vector
 * Configuration, which it refuses with Feature Not Changeable. */
static bool feature_changeable(const struct nvme_sim *sim, uint8_t fid)
{
    return !sim->cfg.qemu_feature_caps ||
           (fid != NVME_FEAT_ARBITRATION && fid != NVME_FEAT_POWER_MGMT &&
            fid != NVME_FEAT_IRQ_COALESCE && fid != NVME_FEAT_IRQ_CONFIG);
}

/* Saveable features (SV, SEL 010b): those a power cycle would keep; none
 * with cfg.qemu_feature_caps, as QEMU. */
static bool feature_saveable(struct nvme_sim *sim, uint8_t fid)
{
    if (!(sim->cfg.oncs & NVME_ONCS_FEATURES_SAVE) || sim->cfg.qemu_feature_caps)
        return false;
    switch (fid) {
    case NVME_FEAT_ARBITRATION:
    case NVME_FEAT_POWER_MGMT:
    case NVME_FEAT_TEMP_THRESH:
    case NVME_FEAT_ERROR_RECOVERY:
    case NVME_FEAT_VOLATILE_WC:
    case NVME_FEAT_IRQ_COALESCE:
    case NVME_FEAT_ASYNC_EVENT:
    case NVME_FEAT_APST:
        return true;
    default:
        return false;
    }
}

/* Default feature values (§5.27.1); TMPTH of sensor n, over and under. */
static uint32_t feature_default(struct nvme_sim *sim, uint8_t fid)
{
    uint32_t n = sim->nq_grant != 0 ? sim->nq_grant - 1u : 0u; /* 0-based */
    switch (fid) {
    case NVME_FEAT_ARBITRATION:
        return 0x3; /* AB = 8 commands */
    case NVME_FEAT_TEMP_THRESH:
        return 343;
    case NVME_FEAT_VOLATILE_WC:
        return sim->cfg.vwc ? 1 : 0;
    case NVME_FEAT_NUM_QUEUES:
        return (n << 16) | n;
    default:
        return 0;
    }
}

/* Values after a controller reset: the saved ones where saveable, else
 * the defaults (§5.27.1, Figure 384). */
void sim_features_reset(struct nvme_sim *sim)
{
    memset(sim->hbs, 0, sizeof(sim->hbs)); /* ACRE 0 */
    for (unsigned f = 0; f < 256; f++)
        sim->feat[f] = feature_saveable(sim, (uint8_t)f) ? sim->feat_saved[f]
                                                         : feature_default(sim, (uint8_t)f);
    for (unsigned t = 0; t < 64; t++) /* over thresholds 343 K, under 0 */
        sim->temp_thresh[t] = t & 0x10 ? 0 : 343;
    bool er_saved = feature_saveable(sim, NVME_FEAT_ERROR_RECOVERY);
    for (unsigned i = 0; i < sim->ns_count; i++) /* Error Recovery: its saved value or 0 */
        sim->ns[i]->err_rec = er_saved ? sim->ns[i]->err_rec_saved : 0;
    memset(sim->iv_cd, 0, sizeof(sim->iv_cd)); /* coalescing on every vector */
    memcpy(sim->apst, sim->apst_saved, sizeof(sim->apst));
    sim->ts_set = false;
}

/* Timestamp (NVMe 2.0 §5.27.1.11): ms in bits 47:0, Synch 48, origin
 * 51:49 (000b reset, 001b set by Set Features). */
static void timestamp_get(struct nvme_sim *sim, uint8_t out[8])
{
    uint64_t ms = sim->now / 1000;
    if (sim->ts_set)
        ms = sim->ts_base_ms + (sim->now - sim->ts_at_us) / 1000;
    for (int i = 0; i < 6; i++)
        out[i] = (uint8_t)(ms >> (8 * i));
    out[6] = sim->ts_set ? 0x2 : 0;
    out[7] = 0;
}

void nvme_sim_timestamp(struct nvme_sim *sim, uint8_t out[8])
{
    pthread_mutex_lock(&sim->mtx);
    timestamp_get(sim, out);
    pthread_mutex_unlock(&sim->mtx);
}

/* Get Features / Set Features (§5.15, §5.27): SEL CDW10 10:8 (current,
 * default, saved, supported capabilities), SV CDW10 bit 31. */
static uint16_t features(struct nvme_sim *sim, const struct nvme_sqe *sqe, bool set, uint32_t *dw0)
{
    uint8_t fid = (uint8_t)sqe->cdw10;
    if (!feature_known(sim, fid))
        return SF_INVALID_FIELD;
    /* SV for a feature that is not saveable: Feature Identifier Not
     * Saveable before the NSID and the other checks, as QEMU's
     * nvme_set_feature (before: after them, so Feature Not Changeable or
     * an NSID status came first). */
    bool sv = set && (sqe->cdw10 & NVME_FEAT_SV);
    if (sv && !feature_saveable(sim, fid))
        return SIM_SF_CMD(NVME_SC_FEAT_NOT_SAVEABLE);
    if (fid == NVME_FEAT_VOLATILE_WC && !sim->cfg.vwc)
        return SF_INVALID_FIELD;
    /* Error Recovery is namespace specific (NVMe 2.0 §5.27.1, scope): Get
     * Features names one active namespace, Set Features one or all
     * (FFFFFFFFh); 0, FFFFFFFFh on Get or one above NN is Invalid
     * Namespace or Format, an inactive one Invalid Field in Command, as
     * QEMU's nvme_get_feature and nvme_set_feature.  Before: any NSID. */
    struct sim_ns *erns = NULL;
    if (fid == NVME_FEAT_ERROR_RECOVERY && !(set && sqe->nsid == NVME_NSID_ALL)) {
        uint16_t sf = 0;
        if (!(erns = sim_ns_active(sim, sqe->nsid, &sf)))
            return sf;
    }
    /* Interrupt Vector Configuration (§5.21.1.9): IV (CDW11 15:0) names
     * one of the controller's vectors, those Create I/O Completion Queue
     * takes; another is Invalid Field in Command, as QEMU's
     * nvme_get_feature (before: any IV, and the IV last set echoed). */
    uint16_t iv = (uint16_t)sqe->cdw11;
    if (fid == NVME_FEAT_IRQ_CONFIG && iv >= sim_vectors(sim))
        return SF_INVALID_FIELD;
    /* Set Features of a controller-scope feature for one namespace (NSID
     * neither 0 nor FFFFFFFFh): Feature Identifier Not Namespace Specific
     * (§5.21.1), as QEMU's nvme_set_feature; the vendor feature takes
     * any NSID.  Before: accepted. */
    if (set && sqe->nsid != 0 && sqe->nsid != NVME_NSID_ALL && fid != NVME_FEAT_ERROR_RECOVERY &&
        fid != sim->cfg.vendor_fid)
        return SIM_SF_CMD(SC_FEAT_NOT_NS_SPECIFIC);
    /* Then Feature Not Changeable (NVMe 2.0 §5.27, status 0Eh), as QEMU's
     * nvme_set_feature checks after the NSID (before: always changed). */
    if (set && !feature_changeable(sim, fid))
        return SIM_SF_CMD(NVME_SC_FEAT_NOT_CHANGEABLE);
    if (set && sim->refuse_set_status != 0 && fid == sim->refuse_set_fid)
        return sim->refuse_set_status; /* nvme_sim_refuse_set_feature */
    if (!set) {
        uint8_t sel = (uint8_t)((sqe->cdw10 >> 8) & 0x7);
        /* Without Save and Select support (ONCS bit 4) the controller has
         * no Select field: as an NVMe 1.0 controller, whose CDW10 bits
         * 31:8 are reserved, it ignores it and returns the current value
         * (with its data structure, when the feature has one). */
        if (!(sim->cfg.oncs & NVME_ONCS_FEATURES_SAVE))
            sel = NVME_FEAT_SEL_CURRENT;
        bool save = feature_saveable(sim, fid);
        /* Figure 326: every feature changeable (Number of Queues too:
         * Set Features takes it until an I/O queue exists), Error
         * Recovery namespace specific, as QEMU's nvme_feature_cap
         * (before: Number of Queues 0, Error Recovery not per namespace). */
        if (sel == NVME_FEAT_SEL_SUPPORTED) {
            *dw0 = (feature_changeable(sim, fid) ? NVME_FEAT_CAP_CHANGEABLE : 0) |
                   (save ? NVME_FEAT_CAP_SAVEABLE : 0) |
                   (fid == NVME_FEAT_ERROR_RECOVERY ? NVME_FEAT_CAP_NS_SPECIFIC : 0);
            return 0;
        }
        if (sel > NVME_FEAT_SEL_SUPPORTED)
            return SF_INVALID_FIELD;
        /* Without saving support, SEL 010b reports the default (§5.15.1). */
        bool dflt = sel == NVME_FEAT_SEL_DEFAULT || (sel == NVME_FEAT_SEL_SAVED && !save);
        if (fid == FID_HOST_BEHAVIOR) { /* 512-byte data structure through the PRPs */
            static const uint8_t zero[512];
            return sim_prp_copy(sim, sqe, dflt ? (uint8_t *)(uintptr_t)zero : sim->hbs,
                                sizeof(sim->hbs), true);
        }
        if (fid == NVME_FEAT_APST) {
            static const uint8_t zero[256];
            const uint8_t *d = dflt                         ? zero
                               : sel == NVME_FEAT_SEL_SAVED ? sim->apst_saved
                                                            : sim->apst;
            *dw0 = dflt ? 0 : sel == NVME_FEAT_SEL_SAVED ? sim->feat_saved[fid] : sim->feat[fid];
            return sim_prp_copy(sim, sqe, (void *)(uintptr_t)d, 256, true);
        }
        if (fid == NVME_FEAT_HOST_MEM_BUF)
            return sim_hmb_get(sim, sqe, dw0);
        if (sim->cfg.vendor_fid >= 0xc0 && fid == sim->cfg.vendor_fid) {
            *dw0 = dflt ? 0 : sim->feat[fid];
            return sim_prp_copy(sim, sqe, sim->vendor_feat, vendor_feat_len(sim), true);
        }
        if (fid == NVME_FEAT_HOST_ID) { /* 8 bytes, 16 with EXHID, through the PRPs */
            static const uint8_t zero[16];
            return sim_prp_copy(sim, sqe, dflt ? (uint8_t *)(uintptr_t)zero : sim->hostid,
                                (sqe->cdw11 & NVME_FEAT_HOST_ID_EXHID) ? 16 : 8, true);
        }
        if (fid == NVME_FEAT_TIMESTAMP) {
            uint8_t ts[8];
            timestamp_get(sim, ts);
            return sim_prp_copy(sim, sqe, ts, sizeof(ts), true);
        }
        if (fid == NVME_FEAT_TEMP_THRESH) { /* TMPSEL 19:16, THSEL 21:20 */
            unsigned t = ((sqe->cdw11 >> 16) & 0xf) | ((sqe->cdw11 >> 16) & 0x10);
            *dw0 = (dflt ? (t & 0x10 ? 0 : 343) : sim->temp_thresh[t]) | (sqe->cdw11 & 0x3f0000);
            return 0;
        }
        uint32_t v = dflt                         ? feature_default(sim, fid)
                     : sel == NVME_FEAT_SEL_SAVED ? sim->feat_saved[fid]
                                                  : sim->feat[fid];
        if (fid == NVME_FEAT_IRQ_CONFIG) /* CD (bit 16) of that vector, IV */
            v = (!dflt && (sim->iv_cd[iv / 8] >> (iv % 8)) & 1u ? 1u << 16 : 0u) | iv;
        if (erns && !dflt) /* that namespace's value, current or saved */
            v = sel == NVME_FEAT_SEL_SAVED ? erns->err_rec_saved : erns->err_rec;
        *dw0 = v;
        return 0;
    }
    switch (fid) {
    case NVME_FEAT_HOST_MEM_BUF:
        return sim_hmb_set(sim, sqe);
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
    case NVME_FEAT_POWER_MGMT: /* PS 4:0, WH 7:5 */
        if ((sqe->cdw11 & 0x1f) > sim->cfg.npss)
            return SF_INVALID_FIELD;
        sim->feat[fid] = sqe->cdw11 & 0xff;
        break;
    case NVME_FEAT_TEMP_THRESH: {
        unsigned sel = (sqe->cdw11 >> 16) & 0xf, th = (sqe->cdw11 >> 20) & 0x3;
        if (th > 1 || (sel > 8 && sel != 0xf))
            return SF_INVALID_FIELD;
        unsigned t = sel | (th << 4);
        sim->temp_thresh[t] = sqe->cdw11 & 0xffff;
        if (sel == 0 && th == 0)
            sim->feat[fid] = sqe->cdw11 & 0xffff;
        if (sv && sel == 0 && th == 0)
            sim->feat_saved[fid] = sqe->cdw11 & 0xffff;
        *dw0 = 0;
        return 0;
    }
    case FID_HOST_BEHAVIOR: { /* byte 0: ACRE, 1: ETDAS, 2: LBAFEE (0 or 1 each) */
        uint8_t data[512];
        uint16_t sf = sim_prp_copy(sim, sqe, data, sizeof(data), false);
        if (sf)
            return sf;
        if (data[0] > 1 || data[1] > 1 || data[2] > 1 || (data[2] && sim->cfg.lbafee_refused))
            return SF_INVALID_FIELD;
        memcpy(sim->hbs, data, sizeof(data));
        break;
    }
    case NVME_FEAT_APST: { /* CDW11 bit 0 APSTE, 32 8-byte entries */
        uint8_t data[256];
        uint16_t sf = sim_prp_copy(sim, sqe, data, sizeof(data), false);
        if (sf)
            return sf;
        memcpy(sim->apst, data, sizeof(data));
        sim->feat[fid] = sqe->cdw11 & 1u;
        if (sv)
            memcpy(sim->apst_saved, data, sizeof(data));
        break;
    }
    case NVME_FEAT_TIMESTAMP: {
        if (sqe->cdw11 != 0) /* reserved (§5.21.1.14): a strict device refuses it */
            return SF_INVALID_FIELD;
        uint8_t ts[8];
        uint16_t sf = sim_prp_copy(sim, sqe, ts, sizeof(ts), false);
        if (sf)
            return sf;
        sim->ts_base_ms = 0;
        for (int i = 0; i < 6; i++)
            sim->ts_base_ms |= (uint64_t)ts[i] << (8 * i);
        sim->ts_at_us = sim->now;
        sim->ts_set = true;
        break;
    }
    case NVME_FEAT_HOST_ID: { /* 8 bytes, 16 with EXHID, through the PRPs */
        uint8_t id[16] = {0};
        uint16_t sf = sim_prp_copy(sim, sqe, id, (sqe->cdw11 & NVME_FEAT_HOST_ID_EXHID) ? 16 : 8,
                                   false);
        if (sf)
            return sf;
        memcpy(sim->hostid, id, sizeof(id));
        break;
    }
    case NVME_FEAT_IOCS_PROFILE: /* CDW11 8:0: index of a CNS 1Ch vector */
        if ((sqe->cdw11 & 0x1ff) > (sim->cfg.iocs_gap ? 2u : 1u) ||
            (sim->cfg.iocs_gap && (sqe->cdw11 & 0x1ff) == 1))
            return SIM_SF_CMD(0x2b); /* I/O Command Set Combination Rejected */
        sim->feat[fid] = sqe->cdw11 & 0x1ff;
        break;
    case NVME_FEAT_IRQ_CONFIG: /* CD, bit 16, of vector IV */
        sim->iv_cd[iv / 8] = (uint8_t)((sim->iv_cd[iv / 8] & ~(1u << (iv % 8))) |
                                       (((sqe->cdw11 >> 16) & 1u) << (iv % 8)));
        break;
    case NVME_FEAT_ERROR_RECOVERY: /* one namespace, or every active one (FFFFFFFFh) */
        /* SV saves it for those namespaces alone (before: one saved value
         * for the controller, which a reset gave every namespace). */
        for (unsigned i = 0; i < sim->ns_count; i++) {
            if (erns && sim->ns[i] != erns)
                continue;
            sim->ns[i]->err_rec = sqe->cdw11;
            if (sv)
                sim->ns[i]->err_rec_saved = sqe->cdw11;
        }
        *dw0 = 0;
        return 0;
    case NVME_FEAT_ASYNC_EVENT: /* bits 7:0 SMART warnings, 8 NS attribute, 9 FW activation */
        sim->feat[fid] = sqe->cdw11 & 0x3ffu;
        break;
    default:
        if (sim->cfg.vendor_fid >= 0xc0 && fid == sim->cfg.vendor_fid) {
            uint16_t sf = sim_prp_copy(sim, sqe, sim->vendor_feat, vendor_feat_len(sim), false);
            if (sf)
                return sf;
        }
        sim->feat[fid] = sqe->cdw11;
        break;
    }
    if (sv)
        sim->feat_saved[fid] = sim->feat[fid];
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

/* Persistent Event Log: a 512-byte header and events, 16 KiB in all. */
#define SIM_PEL_SIZE 16384u

/* Persistent Event Log (LID 0Dh, LPA bit 4; NVMe 1.4 §5.14.1.13): LSP
 * bits 1:0 act on the reporting context, the snapshot reads see.
 * Establish (01b, and 11b: Establish Context and Read 512 Bytes of Header,
 * NVMe 2.0, which returns the header alone) while one exists and Read (00b)
 * without one are Command Sequence Errors; Release (10b) returns no log
 * data (zeros) and succeeds with or without a context: the host reads with
 * Read, then releases.  The
 * header carries LID, TNEV (bytes 7:4), TLL (bytes 15:8) and the context's
 * number at byte 372 (Generation Number); 31 events of 512 bytes follow
 * (a 24-byte header: Vendor Specific Event DEh, Event Header Length 21,
 * Event Timestamp the event's index, Event Length 488), every event data
 * byte that number.  *act: the action, applied once the data went out. */
#define SIM_PEL_EVENT 512u
static uint16_t pel_page(struct nvme_sim *sim, uint32_t cdw10, uint8_t *page, size_t *size,
                         unsigned *act)
{
    if (!(sim->cfg.lpa & NVME_LPA_PERSISTENT_EVENT))
        return SIM_SF_CMD(NVME_SC_INVALID_LOG_PAGE);
    *act = (cdw10 >> 8) & NVME_LOG_LSP_PEL_ACTION_MASK;
    *size = SIM_PEL_SIZE;
    bool establish = *act == NVME_LOG_LSP_PEL_ESTABLISH ||
                     *act == NVME_LOG_LSP_PEL_ESTABLISH_HEADER;
    if ((establish && sim->pel_ctx) || (*act == NVME_LOG_LSP_PEL_READ && !sim->pel_ctx))
        return SIM_SF_GEN(NVME_SC_CMD_SEQ_ERROR);
    if (*act == NVME_LOG_LSP_PEL_RELEASE)
        return 0; /* zeros */
    uint8_t gen = (uint8_t)(sim->pel_gen + (establish ? 1u : 0u));
    uint32_t nev = (SIM_PEL_SIZE - 512u) / SIM_PEL_EVENT;
    uint64_t tll = sim->pel_tll ? sim->pel_tll : SIM_PEL_SIZE;
    uint32_t tnev = sim->pel_tll ? sim->pel_tnev : nev;
    page[0] = NVME_LID_PERSISTENT_EVENT;
    /* SN 75:56 and MN 115:76 as Identify's: ASCII padded with blanks */
    put_str((char *)page + 56, 20, sim->serial);
    put_str((char *)page + 76, 40, sim->model);
    for (unsigned i = 0; i < 4; i++)
        page[4 + i] = (uint8_t)(tnev >> (8 * i));
    for (unsigned i = 0; i < 8; i++)
        page[8 + i] = (uint8_t)(tll >> (8 * i));
    page[372] = gen;
    for (uint32_t e = 0; e < nev; e++) {
        uint8_t *ev = page + 512u + e * SIM_PEL_EVENT;
        ev[0] = 0xde;                            /* Vendor Specific Event */
        ev[2] = 21;                              /* Event Header Length: 24 - 3 */
        ev[6] = (uint8_t)e;                      /* Event Timestamp */
        ev[22] = (uint8_t)(SIM_PEL_EVENT - 24u); /* Event Length */
        ev[23] = (uint8_t)((SIM_PEL_EVENT - 24u) >> 8);
        memset(ev + 24, gen, SIM_PEL_EVENT - 24u);
    }
    if (*act == NVME_LOG_LSP_PEL_ESTABLISH_HEADER)
        memset(page + 512, 0, SIM_PEL_SIZE - 512u); /* the header alone */
    return 0;
}

/* Get Log Page (§5.14): NUMD = (NUMDU:NUMDL) + 1 dwords from offset LPO;
 * RAE (CDW10 bit 15) clear unmasks the event type that named this page. */
static uint16_t get_log_page(struct nvme_sim *sim, const struct nvme_sqe *sqe)
{
    static _Thread_local uint8_t page[32768]; /* the largest: Telemetry with Data Area 4 */
    uint8_t lid = (uint8_t)sqe->cdw10, csi = (uint8_t)(sqe->cdw14 >> 24);
    bool rae = sqe->cdw10 & (1u << 15);
    uint64_t numd = (((uint64_t)(sqe->cdw11 & 0xffff) << 16) | (sqe->cdw10 >> 16)) + 1;
    uint64_t len = numd * 4, lpo = ((uint64_t)sqe->cdw13 << 32) | sqe->cdw12;
    uint64_t max = sim_mdts_bytes(sim); /* MDTS (§5.15.2.2); 0 = none */
    size_t size;
    unsigned pel_act = 4; /* none */
    memset(page, 0, sizeof(page));
    switch (lid) {
    case NVME_LID_PERSISTENT_EVENT: {
        uint16_t sf = pel_page(sim, sqe->cdw10, page, &size, &pel_act);
        if (sf)
            return sf;
        break;
    }
    case NVME_LID_ERROR: /* Figure 193: ELPE+1 entries of 64 bytes */
        sim_error_log_page(sim, page, &size);
        break;
    case 0x04: /* Changed Namespace List */
        sim_changed_ns_page(sim, page, &size);
        break;
    case NVME_LID_RESV_NOTIF:
        if (!(sim->cfg.oncs & NVME_ONCS_RESERVATIONS))
            return SIM_SF_CMD(NVME_SC_INVALID_LOG_PAGE);
        sim_resv_notif_page(sim, page, &size);
        break;
    case NVME_LID_SMART:
        /* LPA bit 0 clear: controller scope only (NSID 0 or FFFFFFFFh). */
        if (sqe->nsid != 0 && sqe->nsid != NVME_NSID_ALL)
            return SF_INVALID_FIELD;
        smart_page(sim, (struct nvme_smart_log *)(void *)page);
        size = 512;
        break;
    case NVME_LID_TELEMETRY_HOST: /* sim_telemetry.c */
    case NVME_LID_TELEMETRY_CTRL: {
        uint16_t sf = sim_telemetry_page(sim, lid, sqe->cdw10, page, &size);
        if (sf)
            return sf;
        break;
    }
    case NVME_LID_FW_SLOT: /* Figure 197: AFI = slot 1, FRS1 */
        page[0] = (uint8_t)(sim->fw_active | (sim->fw_next << 4));
        for (unsigned sl = 1; sl <= 7; sl++)
            memcpy(page + 8 * sl, sim->fw_slot[sl], strnlen(sim->fw_slot[sl], 8));
        size = 512;
        break;
    default: {
        uint16_t sf = 0;
        if (sim_logpages(sim, lid, sqe, page, &size, &sf)) { /* sim_logpages.c */
            if (sf)
                return sf;
            break;
        }
        if (!sim_log_extra(sim, lid, csi, page, &size))
            return SIM_SF_CMD(NVME_SC_INVALID_LOG_PAGE);
        break;
    }
    }
    /* An offset past the log is Invalid Field (§5.14); one at its end too
     * for the logs QEMU implements (nvme_error_info, nvme_smart_info,
     * nvme_fw_log_info, nvme_changed_nslist, nvme_cmd_effects,
     * nvme_endgrp_info: off >= size), as it answers (before: zeros). */
    bool at_end_refused = (lid >= NVME_LID_ERROR && lid <= NVME_LID_EFFECTS) || lid == 0x09;
    if (lpo & 3u || lpo > size || (lpo == size && at_end_refused))
        return SF_INVALID_FIELD;
    /* Offsets, NUMDU and NUMDL bits 31:28 need LPA bit 2 (extended data):
     * without it the count is NUMDL bits 27:16 alone, and the reserved
     * bits set are refused. */
    if (!(sim->cfg.lpa & NVME_LPA_EXTENDED) &&
        (lpo || (sqe->cdw11 & 0xffff) || (sqe->cdw10 >> 28) != 0))
        return SF_INVALID_FIELD;
    if ((max && len > max) || len > (1u << 22))
        return SF_INVALID_FIELD;
    /* Bytes past the end of the log page read as zeros. */
    uint8_t *out = calloc(1, (size_t)len);
    if (!out)
        return (uint16_t)NVME_SF(NVME_SCT_GENERIC, NVME_SC_INTERNAL);
    memcpy(out, page + lpo, (size_t)(size - lpo < len ? size - lpo : len));
    uint16_t sf = sim_prp_copy(sim, sqe, out, (size_t)len, true);
    free(out);
    if (!sf) {
        sim_log_read(sim, lid, rae);
        sim_telemetry_read(sim, lid, rae);
    }
    if (!sf &&
        (pel_act == NVME_LOG_LSP_PEL_ESTABLISH || pel_act == NVME_LOG_LSP_PEL_ESTABLISH_HEADER)) {
        sim->pel_ctx = true;
        sim->pel_gen++;
    } else if (!sf && pel_act == NVME_LOG_LSP_PEL_RELEASE) {
        sim->pel_ctx = false;
    }
    return sf;
}

uint16_t sim_admin_exec(struct nvme_sim *sim, const struct nvme_sqe *sqe, uint32_t *dw0,
                        bool *no_cqe)
{
    if (sqe->flags & 0xc3) /* fused operations and SGLs are not supported */
        return SF_INVALID_FIELD;
    switch (sqe->opc) {
    case NVME_ADMIN_IDENTIFY:
        return identify(sim, sqe);
    case NVME_ADMIN_CREATE_CQ:
        return create_cq(sim, sqe);
    case NVME_ADMIN_CREATE_SQ:
        return create_sq(sim, sqe);
    case NVME_ADMIN_DELETE_SQ:
        return delete_sq(sim, sqe);
    case NVME_ADMIN_DELETE_CQ:
        return delete_cq(sim, sqe);
    case NVME_ADMIN_GET_FEATURES:
        return features(sim, sqe, false, dw0);
    case NVME_ADMIN_SET_FEATURES:
        return features(sim, sqe, true, dw0);
    case NVME_ADMIN_GET_LOG_PAGE:
        return get_log_page(sim, sqe);
    case NVME_ADMIN_ABORT:
        return sim_abort(sim, sqe, dw0);
    case NVME_ADMIN_ASYNC_EVENT:
        return sim_aer_request(sim, sqe, no_cqe);
    case NVME_ADMIN_FORMAT_NVM:
        return sim_format(sim, sqe);
    case NVME_ADMIN_SANITIZE:
        return sim_sanitize(sim, sqe);
    case NVME_ADMIN_DEVICE_SELF_TEST:
        return sim_self_test(sim, sqe);
    case NVME_ADMIN_FW_DOWNLOAD:
        return sim_fw_download(sim, sqe);
    case NVME_ADMIN_FW_COMMIT:
        return sim_fw_commit(sim, sqe, dw0);
    case NVME_ADMIN_DBBUF_CONFIG:
        return sim_dbbuf_config(sim, sqe);
    case NVME_ADMIN_NS_MGMT:
        return sim_ns_mgmt(sim, sqe, dw0);
    case NVME_ADMIN_NS_ATTACH:
        return sim_ns_attach(sim, sqe);
    case NVME_ADMIN_VIRT_MGMT:
        return sim_virt_mgmt(sim, sqe, dw0);
    default:
        if (sim->cfg.vendor_opc >= 0xc0 && sqe->opc == sim->cfg.vendor_opc) {
            sim->st.vendor_cmds++;
            return 0;
        }
        return SIM_SF_GEN(NVME_SC_INVALID_OPCODE);
    }
}
