/* SPDX-License-Identifier: MIT */
/*
 * sim_logpages.c - log pages of NVMe 2.0 the simulated controller adds to
 * those of sim_admin.c and sim_mgmt.c, and the Identify fields that
 * announce them:
 *   Supported Log Pages (LID 00h, §5.16.1.1): LSUPP for each LID this
 *   simulator answers;
 *   Endurance Group Information (LID 09h, §5.16.1.10), with
 *   cfg.endgidmax: CTRATT bit 4, ENDGIDMAX, every namespace in group 1;
 *   Asymmetric Namespace Access (LID 0Ch, §5.16.1.13), with cfg.nanagrpid:
 *   CMIC bit 3, ANACAP, ANAGRPMAX = NANAGRPID, MNAN; namespace i in group
 *   (i - 1) % NANAGRPID + 1.
 */
#include <string.h>

#include "sim_internal.h"

#define SF_INVALID_FIELD SIM_SF_GEN(NVME_SC_INVALID_FIELD)
#define SIM_ANA_CHGCNT                                                                             \
    7u /* Change Count of the log and its groups, plus
                            the changes nvme_sim_ana_changing made */

static void put_le(uint8_t *p, uint64_t v, unsigned n)
{
    for (unsigned i = 0; i < n; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}

void sim_logpages_id_ctrl(struct nvme_sim *sim, struct nvme_id_ctrl *id)
{
    if (sim->cfg.elbas)
        id->ctratt |= NVME_CTRATT_ELBAS;
    if (sim->cfg.endgidmax != 0) {
        id->ctratt |= 1u << 4; /* Endurance Groups */
        id->endgidmax = sim->cfg.endgidmax;
    }
    if (sim->cfg.nanagrpid != 0) {
        id->cmic |= 1u << 3; /* ANA reporting */
        id->anatt = 10;
        id->anacap = 0x03 | 0x80; /* optimized, non-optimized; ANAGRPID non-zero */
        id->anagrpmax = sim->cfg.nanagrpid;
        id->nanagrpid = sim->cfg.nanagrpid;
        id->mnan = sim->cfg.mnan; /* 0: at most NN namespaces */
    }
}

static uint32_t ana_group(const struct nvme_sim *sim, uint32_t nsid)
{
    return sim->cfg.nanagrpid != 0 ? (nsid - 1u) % sim->cfg.nanagrpid + 1u : 0u;
}

void sim_logpages_id_ns(struct nvme_sim *sim, uint32_t nsid, struct nvme_id_ns *id)
{
    id->anagrpid = ana_group(sim, nsid);
    if (sim->cfg.endgidmax != 0)
        id->endgid = 1;
}

/* ANA state of group g (Figure 212 byte 16): optimized when odd,
 * non-optimized when even. */
static uint8_t ana_state(uint32_t g) { return (g & 1u) ? 0x01 : 0x02; }

static bool supported(struct nvme_sim *sim, unsigned lid)
{
    switch (lid) {
    case 0x00:
    case NVME_LID_ERROR:
    case NVME_LID_SMART:
    case NVME_LID_FW_SLOT:
    case NVME_LID_CHANGED_NS:
        return true;
    case NVME_LID_EFFECTS:
        return (sim->cfg.lpa & NVME_LPA_EFFECTS) != 0;
    case NVME_LID_SELF_TEST:
        return (sim->cfg.oacs & NVME_OACS_SELF_TEST) != 0;
    case NVME_LID_TELEMETRY_HOST:
    case NVME_LID_TELEMETRY_CTRL:
        return (sim->cfg.lpa & NVME_LPA_TELEMETRY) != 0;
    case 0x09:
        return sim->cfg.endgidmax != 0;
    case 0x0c:
        return sim->cfg.nanagrpid != 0;
    case NVME_LID_PERSISTENT_EVENT:
        return (sim->cfg.lpa & NVME_LPA_PERSISTENT_EVENT) != 0;
    case NVME_LID_SANITIZE:
        return (sim->cfg.sanicap & 7u) != 0;
    case 0xc0: /* sim_mgmt.c's vendor-specific log */
        return true;
    default:
        return false;
    }
}

bool sim_logpages(struct nvme_sim *sim, uint8_t lid, const struct nvme_sqe *sqe, uint8_t *page,
                  size_t *size, uint16_t *sf)
{
    *sf = 0;
    switch (lid) {
    case 0x00: /* Figure 204: a LID Supported and Effects dword per LID */
        for (unsigned l = 0; l < 256; l++) {
            uint32_t d = supported(sim, l) ? 1u : 0u; /* LSUPP */
            if (l == NVME_LID_PERSISTENT_EVENT && d)
                d |= 1u << 16; /* ECRH: Establish Context and Read 512 Bytes of Header */
            put_le(page + 4 * l, d, 4);
        }
        *size = 1024;
        return true;
    case 0x09: { /* Figure 209; the group in LSI, CDW11 31:16 */
        uint16_t g = (uint16_t)(sqe->cdw11 >> 16);
        if (sim->cfg.endgidmax == 0)
            return false;
        if (g == 0 || g > sim->cfg.endgidmax) {
            *sf = SF_INVALID_FIELD;
            return true;
        }
        uint64_t total = 0;
        for (unsigned i = 0; i < sim->ns_count; i++)
            total += sim->ns[i]->blocks * sim->ns[i]->lba_size;
        page[3] = 100;                   /* Available Spare */
        page[4] = 10;                    /* Available Spare Threshold */
        page[5] = (uint8_t)g;            /* Percentage Used: the group's number */
        put_le(page + 32, 1000u * g, 8); /* Endurance Estimate */
        for (unsigned i = 0; i < 5; i++) /* Data Units Read .. Host Write Commands */
            put_le(page + 48 + 16 * i, (uint64_t)(i + 2) * g, 8);
        if (g == 1)
            put_le(page + 160, total, 8); /* Total Endurance Group Capacity */
        *size = 512;
        return true;
    }
    case 0x0c: { /* Figures 211, 212; LSP bit 0: Return Groups Only */
        uint32_t n = sim->cfg.nanagrpid;
        bool rgo = (sqe->cdw10 >> 8) & 1u;
        if (n == 0)
            return false;
        size_t off = 16;
        uint64_t chgcnt = SIM_ANA_CHGCNT + sim->ana_changes;
        if (sim->ana_changing != 0) { /* a change after this read */
            sim->ana_changing--;
            sim->ana_changes++;
        }
        put_le(page, chgcnt, 8);
        put_le(page + 8, sim->ana_ngrps ? sim->ana_ngrps : n, 2);
        for (uint32_t g = 1; g <= n && off + 32 <= 32768; g++) {
            uint8_t *d = page + off;
            uint32_t cnt = 0;
            off += 32;
            for (unsigned i = 0; !rgo && i < sim->ns_count && off + 4 <= 32768; i++) {
                if (ana_group(sim, sim->ns[i]->nsid) != g)
                    continue;
                put_le(page + off, sim->ns[i]->nsid, 4);
                off += 4;
                cnt++;
            }
            put_le(d, g, 4);
            put_le(d + 4, g == 1 && sim->ana_nnsids ? sim->ana_nnsids : cnt, 4);
            put_le(d + 8, chgcnt, 8);
            d[16] = ana_state(g);
        }
        *size = off;
        return true;
    }
    default:
        return false;
    }
}

void nvme_sim_ana_header(struct nvme_sim *sim, uint16_t ngrps, uint32_t nnsids)
{
    pthread_mutex_lock(&sim->mtx);
    sim->ana_ngrps = ngrps;
    sim->ana_nnsids = nnsids;
    pthread_mutex_unlock(&sim->mtx);
}

void nvme_sim_ana_changing(struct nvme_sim *sim, unsigned reads)
{
    pthread_mutex_lock(&sim->mtx);
    sim->ana_changing = reads;
    pthread_mutex_unlock(&sim->mtx);
}
