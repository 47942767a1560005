/* SPDX-License-Identifier: MIT */
/*
 * sim_nsmgmt.c - Namespace Management (admin 0Dh, NVMe 2.0 §5.20) and
 * Namespace Attachment (15h, §5.19), with OACS bit 3.  Create takes the
 * host's Identify Namespace fields (NSZE, NCAP, FLBAS: format 0 is 512-byte
 * blocks, 1 is 4096, 2 is 2048 with 8 bytes of metadata, as Identify
 * Namespace NSID FFFFFFFFh lists them: sim_ns_mgmt_formats) and allocates the
 * smallest free NSID up to NN (cfg.nn; 1024 without), attached to no
 * controller.  Attach makes an allocated namespace active (this controller
 * is CNTLID 1), detach makes it allocated again, delete drops it (detaching
 * it first); each change is a Namespace Attribute Changed notice, as
 * nvme_sim_ns_add/_remove post.  Simplification: a namespace keeps its
 * size, format and identifiers while detached, not its data.
 */
#include <string.h>

#include "sim_internal.h"

#define SF_INVALID_FIELD SIM_SF_GEN(NVME_SC_INVALID_FIELD)
#define SF_INVALID_NS SIM_SF_GEN(NVME_SC_INVALID_NS)
#define SC_INVALID_FORMAT 0x0a /* command specific status codes, NVMe 2.0 Figure 103 */
#define SC_NSID_UNAVAILABLE 0x16
#define SC_NS_ATTACHED 0x18
#define SC_NS_NOT_ATTACHED 0x1a
#define SC_CTRL_LIST_INVALID 0x1c

static int detached_find(const struct nvme_sim *sim, uint32_t nsid)
{
    for (unsigned i = 0; i < sim->ndetached; i++)
        if (sim->detached[i].nsid == nsid)
            return (int)i;
    return -1;
}

static void detached_drop(struct nvme_sim *sim, int i)
{
    sim->detached[i] = sim->detached[--sim->ndetached];
}

static bool nsid_taken(const struct nvme_sim *sim, uint32_t nsid)
{
    for (unsigned i = 0; i < 8 && sim->cfg.inactive_nsids[i] != 0; i++)
        if (sim->cfg.inactive_nsids[i] == nsid)
            return true;
    return detached_find(sim, nsid) >= 0 || sim_ns_find((struct nvme_sim *)sim, nsid) != NULL;
}

/* The formats a namespace can be created with (LBADS, MS). */
static const struct {
    uint8_t lbads;
    uint16_t ms;
} mgmt_fmt[] = {{9, 0}, {12, 0}, {11, 8}};
#define MGMT_NFMT (sizeof(mgmt_fmt) / sizeof(mgmt_fmt[0]))

void sim_ns_mgmt_formats(struct nvme_id_ns *id)
{
    id->nlbaf = (uint8_t)(MGMT_NFMT - 1u);
    for (unsigned i = 0; i < MGMT_NFMT; i++) {
        id->lbaf[i].lbads = mgmt_fmt[i].lbads;
        id->lbaf[i].ms = mgmt_fmt[i].ms;
    }
}

bool sim_ns_mgmt_id_detached(struct nvme_sim *sim, uint32_t nsid, struct nvme_id_ns *id)
{
    int i = detached_find(sim, nsid);
    if (i < 0)
        return false;
    const struct nvme_sim_ns_config *nc = &sim->detached[i];
    uint32_t lba = nc->lba_size ? nc->lba_size : 512u;
    id->nsze = id->ncap = id->nuse = nc->blocks;
    id->lbaf[0].ms = nc->ms; /* the format it has, as format 0 */
    id->lbaf[0].lbads = (uint8_t)__builtin_ctz(lba);
    id->flbas = nc->extended ? NVME_FLBAS_EXTENDED : 0;
    id->dps = (uint8_t)(nc->pi_type | (nc->pi_first ? NVME_DPS_PI_FIRST : 0));
    return true;
}

/* Active -> allocated: its size, format (metadata, protection, the
 * formats it lists, zones) and identifiers are kept, as a namespace's own
 * (attaching changes no Identify Namespace field but NMIC's view). */
static uint16_t detach(struct nvme_sim *sim, uint32_t nsid)
{
    struct sim_ns *ns = sim_ns_find(sim, nsid);
    if (ns == NULL)
        return SIM_SF_CMD(SC_NS_NOT_ATTACHED);
    if (sim->ndetached == SIM_DETACHED_MAX)
        return SIM_SF_GEN(NVME_SC_INTERNAL);
    sim->detached[sim->ndetached++] = (struct nvme_sim_ns_config){
        .nsid = nsid,
        .blocks = ns->blocks,
        .lba_size = ns->lba_size,
        .ident = ns->ident,
        .uuid_only = ns->uuid_only,
        .nlbaf = ns->nlbaf,
        .flbas_index = (uint8_t)(ns->nlbaf ? ns->cur : 0u),
        .nulbaf = ns->nulbaf,
        .ms = ns->ms,
        .extended = ns->extended,
        .pi_type = ns->pi_type,
        .pi_first = ns->pi_first,
        .pif = ns->pif,
        .sts = ns->sts,
        .zoned = ns->zoned,
        .zone_size = ns->zone_size,
        .zsze_reported = ns->zsze_reported,
        .zdes = ns->zdes,
        .csi_reported = ns->csi_reported,
        .max_open = ns->max_open,
        .max_active = ns->max_active};
    (void)sim_ns_delete(sim, nsid);
    sim_ns_changed(sim, nsid);
    sim->st.ns_detaches++;
    return 0;
}

uint16_t sim_ns_mgmt(struct nvme_sim *sim, const struct nvme_sqe *sqe, uint32_t *dw0)
{
    if (!(sim->cfg.oacs & NVME_OACS_NS_MGMT))
        return SIM_SF_GEN(NVME_SC_INVALID_OPCODE);
    switch (sqe->cdw10 & 0xfu) {
    case 0: { /* create */
        struct nvme_id_ns id;
        uint16_t sf = sim_prp_copy(sim, sqe, &id, sizeof(id), false);
        if (sf != 0)
            return sf;
        sim->st.ns_create_flbas = id.flbas;
        sim->st.ns_create_anagrpid = id.anagrpid;
        sim->st.ns_create_nvmsetid = id.nvmsetid;
        unsigned f = (id.flbas & 0xfu) | ((id.flbas >> 1) & 0x30u);
        if (f >= MGMT_NFMT)
            return SIM_SF_CMD(SC_INVALID_FORMAT);
        if (id.nsze == 0 || id.ncap > id.nsze || (sqe->cdw11 >> 24) != NVME_CSI_NVM)
            return SF_INVALID_FIELD;
        uint32_t nn = sim->nn_override ? sim->nn_override : 1024u, nsid = 1;
        while (nsid <= nn && nsid_taken(sim, nsid))
            nsid++;
        if (nsid > nn || sim->ndetached == SIM_DETACHED_MAX)
            return SIM_SF_CMD(SC_NSID_UNAVAILABLE);
        sim->detached[sim->ndetached++] = (struct nvme_sim_ns_config){
            .nsid = nsid,
            .blocks = id.nsze,
            .lba_size = 1u << mgmt_fmt[f].lbads,
            .ms = mgmt_fmt[f].ms,
            .extended = mgmt_fmt[f].ms != 0 && (id.flbas & NVME_FLBAS_EXTENDED) != 0};
        *dw0 = nsid;
        sim->st.ns_creates++;
        return 0;
    }
    case 1: { /* delete: detached first, then gone */
        bool all = sqe->nsid == NVME_NSID_ALL, found = false;
        for (unsigned i = sim->ns_count; all && i-- > 0;)
            (void)detach(sim, sim->ns[i]->nsid);
        if (!all && sim_ns_find(sim, sqe->nsid) != NULL)
            (void)detach(sim, sqe->nsid);
        for (int i = (int)sim->ndetached; i-- > 0;) {
            if (all || sim->detached[i].nsid == sqe->nsid) {
                detached_drop(sim, i);
                found = true;
                sim->st.ns_deletes++;
            }
        }
        return found || all ? 0 : SF_INVALID_NS;
    }
    default:
        return SF_INVALID_FIELD;
    }
}

uint16_t sim_ns_attach(struct nvme_sim *sim, const struct nvme_sqe *sqe)
{
    if (!(sim->cfg.oacs & NVME_OACS_NS_MGMT))
        return SIM_SF_GEN(NVME_SC_INVALID_OPCODE);
    uint16_t list[2048];
    uint16_t sf = sim_prp_copy(sim, sqe, list, sizeof(list), false);
    if (sf != 0)
        return sf;
    bool us = false; /* this controller (CNTLID 1) in the list */
    for (unsigned i = 0; i < list[0] && i < 2047; i++)
        us = us || list[1 + i] == 1;
    if (list[0] == 0 || list[0] > 2047 || !us)
        return SIM_SF_CMD(SC_CTRL_LIST_INVALID);
    uint32_t nsid = sqe->nsid;
    switch (sqe->cdw10 & 0xfu) {
    case 0: { /* attach */
        if (sim_ns_find(sim, nsid) != NULL)
            return SIM_SF_CMD(SC_NS_ATTACHED);
        int i = detached_find(sim, nsid);
        if (i < 0)
            return SF_INVALID_NS;
        if (sim_ns_insert(sim, &sim->detached[i]) != 0)
            return SIM_SF_GEN(NVME_SC_INTERNAL);
        detached_drop(sim, i);
        sim_ns_changed(sim, nsid);
        sim->st.ns_attaches++;
        return 0;
    }
    case 1: /* detach */
        return detach(sim, nsid);
    default:
        return SF_INVALID_FIELD;
    }
}
